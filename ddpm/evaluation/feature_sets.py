"""The feature sets that FID and KID are computed on (a module of its own: tables and figures name
them without loading the networks that compute them, :mod:`ddpm.evaluation.features`)."""

FEATURE_SETS = ("classifier", "inception")
