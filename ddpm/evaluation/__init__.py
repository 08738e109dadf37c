"""Evaluation: judge networks, feature extractors, FID/KID against saved references, conditional accuracy.

- :mod:`.images`: the uint8 NHWC image contract on the evaluation side (read, check, batch to a device).
- :mod:`.classifier`: the class classifier and the text recognizer, their config and checkpoints.
- :mod:`.judge_training`: training both networks on a prepared dataset.
- :mod:`.feature_sets`: the names of the feature sets (no networks loaded).
- :mod:`.features`: uint8 NCHW -> feature modules (classifier penultimate layer, Inception-v3 offline).
- :mod:`.fid`: reference statistics of real images, and FID/KID of a sample set against them.
- :mod:`.conditional`: whether generated images show the class or text they were asked for.
- :mod:`.evaluate`: every metric of one sample set, as the ``evaluate_samples`` script reports it.
"""
