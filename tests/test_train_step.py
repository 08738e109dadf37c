"""bench/train_step.py: the step the speed benchmarks time (and bench/profile_train.py profiles)
clips the gradients and updates the EMA only where asked."""

import torch

from bench_scripts import load_bench_script
from ddpm.factory import build_model
from small_unet import SMALL_DATA, SMALL_UNET, perturb

SHAPE = (SMALL_DATA.image_channels, *SMALL_DATA.image_size)


def step_of(clip_and_ema: bool):
    torch.manual_seed(0)
    model = perturb(build_model(SMALL_UNET, SMALL_DATA), scale=0.5)
    steps = load_bench_script("train_step")
    prepared = steps.Prepared(model, model, torch.contiguous_format, cuda_graphs=False)
    return steps.TrainStep(prepared, torch.device("cpu"), SHAPE, batch=4, precision="fp32", clip_and_ema=clip_and_ema)


def gradient_norm(model: torch.nn.Module) -> float:
    return float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters() if p.grad is not None])))


def test_the_full_step_clips_at_one_and_moves_the_ema_towards_the_weights():
    bare, full = step_of(False), step_of(True)
    assert bare.ema is None
    initial = [p.detach().clone() for p in full.ema.model.parameters()]
    bare(), full()
    assert gradient_norm(bare.prepared.raw) > 1.5  # the same draws: without clipping the norm is well above 1
    assert gradient_norm(full.prepared.raw) <= 1.0 + 1e-5
    # EMA warm-up: the first update's decay is min(0.9999, 1/10), so the shadow is 0.1 old + 0.9 new.
    for shadow, old, new in zip(full.ema.model.parameters(), initial, full.prepared.raw.parameters()):
        torch.testing.assert_close(shadow, 0.1 * old + 0.9 * new.detach())

