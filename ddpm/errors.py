"""Exceptions that carry a message meant for the user: what is wrong and how to fix it."""


class DdpmError(Exception):
    """Base class: scripts turn it into a one-line error message and a non-zero exit."""


class ConfigError(DdpmError, ValueError):
    """An option is unknown, has the wrong type or an impossible value."""


class DataError(DdpmError, ValueError):
    """A raw or prepared data file is malformed (names the file and the offset or record)."""


class ChecksumError(DataError):
    """A raw file's sha256 differs from the one expected."""


class MissingRawFilesError(DataError):
    """Raw files are neither in the raw folder, nor in the mirror, nor downloadable."""


class TrainingDivergedError(DdpmError, RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class FeaturesUnavailableError(DdpmError, RuntimeError):
    """A feature extractor cannot be built offline (e.g. no Inception weights); callers record why."""


class ReferenceMismatchError(DdpmError, ValueError):
    """FID reference statistics were made with another feature extractor or image shape than the one scored."""
