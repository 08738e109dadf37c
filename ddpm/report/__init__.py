"""Report figures, animations and tables, from the files the pipeline's other stages write.

- :mod:`.canvas`: matplotlib figures without pyplot, written atomically as PNG.
- :mod:`.grids`: image grids (rows of images with row labels and cell titles); sample grid PNGs.
- :mod:`.animation`: the denoising-trajectory GIF.
- :mod:`.results`: reading the per-experiment result files (log CSV, provenance, metrics JSONs).
- :mod:`.figures`: schedule, forward-process, denoiser, steps, loss-curve and FID-vs-steps figures.
- :mod:`.tables`: experiment and sample tables as CSV, Markdown and LaTeX (booktabs).
"""
