"""Report figures, animations and tables, from the files the pipeline's other stages write.

- :mod:`.style`: the look of every figure (sizes for a two-column paper, fonts) and the one save
  function (PDF and PNG).
- :mod:`.grids`: image grids (rows of images with row labels and titles); sample and dataset grids.
- :mod:`.animation`: the denoising-trajectory GIF.
- :mod:`.results`: reading the per-experiment result files (log CSV, provenance, metrics JSONs).
- :mod:`.figures`: schedule, forward-process, denoiser, steps, loss-curve and FID-vs-steps figures.
- :mod:`.tables`: the main and appendix tables, as pandas DataFrames written to CSV, Markdown and LaTeX.
"""
