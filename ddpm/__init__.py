"""ddpm: the package behind ddpm-pipeline.

Diffusion math (:mod:`ddpm.schedules`, :mod:`ddpm.diffusion`), networks (:mod:`ddpm.models`),
samplers (:mod:`ddpm.samplers`), datasets (:mod:`ddpm.data`), training, evaluation and reporting.
The package never reads the pipeline's config files and knows nothing of the ``results/`` layout:
the workflow's scripts pass it paths and parameters.
"""

__version__ = "0.1.0"
