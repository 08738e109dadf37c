"""CUDA graphs for the sampling loop: every network evaluation of a chain replays one captured graph.

At small batches a U-Net evaluation is bound by launching its hundreds of kernels, not by running
them; a CUDA graph launches them all at once. The chain calls the network with the same shapes at
every step, so one capture of ``predict(x, t)`` (with the guidance it wraps) serves the whole chain:
x and t are copied into static buffers and the graph is replayed. At large batches the GPU is busy
anyway and the capture (a few warm-up evaluations) is not worth it, hence :data:`MAX_GRAPH_BATCH`.

On the CPU there is no graph: the same buffers are used and ``predict`` runs directly, which keeps
the path testable without a GPU.
"""

from __future__ import annotations

import torch

from ddpm.runtime import switch_on
from ddpm.samplers.guidance import Predictor

MAX_GRAPH_BATCH = 128  # images per batch (before the guidance doubling) up to which graphs are used
WARMUP_CALLS = 3  # evaluations on a side stream before capture (cuDNN autotuning, compilation, caches)


def use_sampling_graphs(compile_setting: str, device: torch.device | str, batch_size: int) -> bool:
    """Graphs wherever the compile setting is on for this device, on CUDA, at small batches."""
    device = torch.device(device)
    return device.type == "cuda" and switch_on(compile_setting, device) and batch_size <= MAX_GRAPH_BATCH


class CapturedPredictor:
    """``predict(x, t)`` for fixed shapes, replayed from a CUDA graph captured on the first call."""

    def __init__(self, predict: Predictor):
        self.predict = predict
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static_x: torch.Tensor | None = None
        self.static_t: torch.Tensor | None = None
        self.static_out: torch.Tensor | None = None

    def _capture(self, x: torch.Tensor, t: torch.Tensor) -> None:
        self.static_x, self.static_t = x.clone(), t.clone()
        if x.device.type != "cuda":
            return
        side = torch.cuda.Stream(x.device)
        side.wait_stream(torch.cuda.current_stream(x.device))
        with torch.cuda.stream(side):
            for _ in range(WARMUP_CALLS):
                self.predict(self.static_x, self.static_t)
        torch.cuda.current_stream(x.device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.static_out = self.predict(self.static_x, self.static_t)

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if self.static_x is None:
            self._capture(x, t)
        if x.shape != self.static_x.shape or t.shape != self.static_t.shape:
            raise ValueError(f"a captured predictor runs one shape: {tuple(self.static_x.shape)}, got {tuple(x.shape)}")
        self.static_x.copy_(x)
        self.static_t.copy_(t)
        if self.graph is None:
            return self.predict(self.static_x, self.static_t)
        self.graph.replay()
        # The next replay overwrites static_out; the chain may keep this output (a multistep history).
        return self.static_out.clone()
