"""GroupNorm, then SiLU, then dropout, in one pass over channels-last memory (Triton), and its backward.

In a compiled U-Net step most of the GPU time outside the convolutions goes to GroupNorm and what
follows it (docs/benchmarks.md): Inductor splits the normalisation into several reductions and
pointwise passes, over NCHW copies or over NHWC memory whose groups are strided. Here a channels-last
activation (N, H, W, C contiguous) is read in tiles of whole pixel rows, so every load is
contiguous:

* forward: one pass of per-channel sums (of ``x - k``, ``k`` the sample's first pixel, which keeps
  ``E[(x-k)^2] - E[x-k]^2`` from cancelling when a group's mean is large against its spread), a few
  small PyTorch ops that turn them into group statistics, and one pass that writes
  ``dropout(silu(x_hat * w + b))``;
* backward: one pass of per-channel sums of the gradient at the GroupNorm's output and of its
  product with ``x_hat`` (the weight and bias gradients, and the two group means of the input
  gradient), and one pass that writes the input gradient. The SiLU and the dropout mask are
  recomputed from ``x`` and the seed, so nothing but ``x`` and two numbers per group is kept.

The dropout mask is Philox noise (``tl.randint4x``, one draw per four channels) keyed by a seed
drawn from PyTorch's generator on the device, so a seeded run draws the same masks, and the step
can be captured in a CUDA graph. Inductor passes Python floats to such kernels as float64 scalars,
so the kernels cast the dropout probability and scale to float32 before they meet a tile. The
statistics are summed in float32 in a fixed order (no atomics): the same input gives the same bits.

Both directions are ``torch.library.triton_op`` operators, which ``torch.compile`` sees into, with
the backward registered as the forward's autograd formula. Without Triton (or off channels-last
CUDA memory) :func:`group_norm_act` computes the same function with PyTorch's own operations.
"""

import os
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

try:
    import triton
    import triton.language as tl
except ImportError:  # no Triton (e.g. macOS wheels): the PyTorch path below serves every input
    triton = None

# Elements of one tile (rows of whole pixels x all channels) in the passes that accumulate.
_TILE_ELEMENTS = 4096
# Work items (sample, slice of pixel rows) a pass aims for: enough to fill a GPU's SMs several times.
_TARGET_PROGRAMS = 512


def interpreting() -> bool:
    """Whether Triton runs kernels in its CPU interpreter (TRITON_INTERPRET=1, as the tests set it)."""
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def fused_kernels_apply(x: Tensor) -> bool:
    """Whether :func:`group_norm_act` takes the Triton kernels for ``x``: 4-D channels-last memory on
    a CUDA device, or on any device while Triton interprets outside ``torch.compile`` (which cannot
    trace the interpreter's kernels)."""
    if triton is None or x.dim() != 4 or x.dtype not in (torch.float32, torch.bfloat16, torch.float16):
        return False
    if not x.is_cuda and not (interpreting() and not torch.compiler.is_compiling()):
        return False
    return x.is_contiguous(memory_format=torch.channels_last)


def group_norm_act(
    x: Tensor,
    weight: Tensor,
    bias: Tensor,
    num_groups: int,
    eps: float,
    silu: bool = True,
    dropout: float = 0.0,
    shift: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``F.dropout(F.silu(F.group_norm(x + shift, num_groups, weight, bias, eps)), dropout)`` (SiLU
    only if ``silu``; ``dropout`` is the probability of zeroing an element, 0 in evaluation;
    ``shift``, if given, is (N, C): a value per sample and channel, such as a residual block's
    projection of the timestep embedding).

    The result has ``x``'s dtype and memory format. Channels-last inputs on CUDA take the fused
    kernels; others the same operations in PyTorch (whose dropout draws other masks). The fused
    kernels add ``shift`` in float32 without materialising ``x + shift``.
    """
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if x.shape[1] % num_groups:
        raise ValueError(f"{x.shape[1]} channels cannot be split into {num_groups} groups")
    if shift is not None and shift.shape != x.shape[:2]:
        raise ValueError(f"shift must be (N, C) = {tuple(x.shape[:2])}, got {tuple(shift.shape)}")
    if not fused_kernels_apply(x):
        if shift is not None:
            x = x + shift[:, :, None, None]
        y = F.group_norm(x, num_groups, weight, bias, eps)
        if silu:
            y = F.silu(y)
        return F.dropout(y, dropout) if dropout else y
    if dropout:
        seed = torch.randint(0, 2**31 - 1, (1,), device=x.device, generator=generator)
    else:
        seed = torch.zeros(1, dtype=torch.int64, device=x.device)
    return torch.ops.ddpm.group_norm_act(x, weight, bias, shift, seed, num_groups, eps, silu, dropout)[0]


def _layout(x: Tensor) -> tuple[int, int, int, int, int, int]:
    """(N, H*W, C, rows per program, tile rows, tile channels) for a channels-last (N, C, H, W) tensor."""
    n, c, h, w = x.shape
    pixels = h * w
    block_c = max(triton.next_power_of_2(c), 4)  # the dropout draws for channel quads
    block_rows = max(1, min(triton.next_power_of_2(pixels), _TILE_ELEMENTS // block_c))
    splits = min(triton.cdiv(pixels, block_rows), max(1, triton.cdiv(_TARGET_PROGRAMS, n)))
    rows_per_program = triton.cdiv(triton.cdiv(pixels, splits), block_rows) * block_rows
    return n, pixels, c, rows_per_program, block_rows, block_c


def _grid(n: int, pixels: int, rows_per_program: int) -> tuple[int, int]:
    return n, triton.cdiv(pixels, rows_per_program)


def _like_channels_last(x: Tensor) -> Tensor:
    """An uninitialised tensor of ``x``'s shape and dtype in channels-last memory, made as the NHWC
    tensor it is (with ``empty_like(memory_format=...)`` the compiled step ran one more full-size
    kernel, named after ``empty_like``, per direction)."""
    n, c, h, w = x.shape
    return x.new_empty((n, h, w, c)).permute(0, 3, 1, 2)


def _per_channel(values: Tensor, channels: int) -> Tensor:
    """(N, G) -> (N, C): each group's value repeated for its channels."""
    return values.repeat_interleave(channels // values.shape[1], dim=1)


if triton is not None:

    @triton.jit
    def _sample_row(ptr, n, channels, BLOCK_C: tl.constexpr):
        """Row ``n`` of a float32 (N, C) tensor of values per sample and channel, zero beyond C."""
        cols = tl.arange(0, BLOCK_C)
        return tl.load(ptr + n * channels + cols, mask=cols < channels, other=0.0)

    @triton.jit
    def _dropout(z, seed, rows, keep_prob, inv_keep, BLOCK_C: tl.constexpr):
        """``z`` (a tile of whole pixel rows) with each element kept with probability ``keep_prob`` and
        scaled by ``inv_keep``, or zeroed. One Philox draw gives the four uniforms of four neighbouring
        channels (a quarter of the random-number work of one draw per element, which dominated these
        kernels); the draw's counter is the pixel row and channel quad within the sample."""
        quads = tl.arange(0, BLOCK_C // 4)
        r0, r1, r2, r3 = tl.randint4x(seed, rows[:, None] * (BLOCK_C // 4) + quads[None, :])
        bits = tl.interleave(tl.interleave(r0, r2), tl.interleave(r1, r3))  # channel 4q + k takes r_k[q]
        keep = tl.random.uint_to_uniform_float(bits) < tl.cast(keep_prob, tl.float32)
        return tl.where(keep, z * tl.cast(inv_keep, tl.float32), 0.0)

    @triton.jit
    def _input_and_gradient(x_ptrs, g_ptrs, ok, scale, shift, seed, rows, keep_prob, inv_keep, SILU: tl.constexpr, DROPOUT: tl.constexpr, BLOCK_C: tl.constexpr):
        """A tile of x and of the gradient at the GroupNorm's output, from the gradient at the block's
        output (the SiLU and the dropout mask recomputed)."""
        v = tl.load(x_ptrs, mask=ok, other=0.0).to(tl.float32)
        g = tl.load(g_ptrs, mask=ok, other=0.0).to(tl.float32)
        if DROPOUT:
            g = _dropout(g, seed, rows, keep_prob, inv_keep, BLOCK_C)
        if SILU:
            z = v * scale[None, :] + shift[None, :]
            s = tl.sigmoid(z)
            g = g * (s * (1.0 + z * (1.0 - s)))
        return v, g

    @triton.jit
    def _program(pixels, channels, rows_per_program, BLOCK_C: tl.constexpr):
        """This program's sample n, the offset of the sample's first element, the channel indices and
        their mask, and the program's pixel rows [row0, row_end)."""
        n = tl.program_id(0)
        cols = tl.arange(0, BLOCK_C)
        row0 = tl.program_id(1) * rows_per_program
        return n, n.to(tl.int64) * pixels * channels, cols, cols < channels, row0, tl.minimum(row0 + rows_per_program, pixels)

    @triton.jit
    def _tile(start, row_end, channels, cols, col_ok, BLOCK_ROWS: tl.constexpr):
        """The rows of the tile starting at pixel row ``start``, its element offsets within the sample
        and its mask."""
        rows = start + tl.arange(0, BLOCK_ROWS)
        return rows, rows[:, None] * channels + cols[None, :], (rows < row_end)[:, None] & col_ok[None, :]

    @triton.jit
    def _store_sums(first_ptr, second_ptr, first, second, n, channels, cols, col_ok):
        """The column sums of two accumulated tiles, at (sample, program, channel) of (N, programs, C)."""
        out = (n * tl.num_programs(1) + tl.program_id(1)) * channels + cols
        tl.store(first_ptr + out, tl.sum(first, axis=0), mask=col_ok)
        tl.store(second_ptr + out, tl.sum(second, axis=0), mask=col_ok)

    @triton.jit
    def _forward_sums(x_ptr, sum_ptr, sumsq_ptr, pixels, channels, rows_per_program, BLOCK_ROWS: tl.constexpr, BLOCK_C: tl.constexpr):
        """Per (sample, program, channel): sum of x - k and of (x - k)^2, k the sample's first pixel."""
        n, offset, cols, col_ok, row0, row_end = _program(pixels, channels, rows_per_program, BLOCK_C)
        shift = tl.load(x_ptr + offset + cols, mask=col_ok, other=0.0).to(tl.float32)
        total = tl.zeros((BLOCK_ROWS, BLOCK_C), tl.float32)
        total_sq = tl.zeros((BLOCK_ROWS, BLOCK_C), tl.float32)
        for start in range(row0, row_end, BLOCK_ROWS):
            rows, offsets, ok = _tile(start, row_end, channels, cols, col_ok, BLOCK_ROWS)
            v = tl.load(x_ptr + offset + offsets, mask=ok, other=0.0).to(tl.float32)
            d = tl.where(ok, v - shift[None, :], 0.0)
            total += d
            total_sq += d * d
        _store_sums(sum_ptr, sumsq_ptr, total, total_sq, n, channels, cols, col_ok)

    @triton.jit
    def _forward_apply(
        x_ptr, y_ptr, scale_ptr, shift_ptr, seed_ptr, pixels, channels, rows_per_program, keep_prob, inv_keep,
        SILU: tl.constexpr, DROPOUT: tl.constexpr, BLOCK_ROWS: tl.constexpr, BLOCK_C: tl.constexpr,
    ):  # fmt: skip
        """y = dropout(silu(x * scale + shift)), scale and shift per (sample, channel)."""
        n, offset, cols, col_ok, row0, row_end = _program(pixels, channels, rows_per_program, BLOCK_C)
        scale = _sample_row(scale_ptr, n, channels, BLOCK_C)
        shift = _sample_row(shift_ptr, n, channels, BLOCK_C)
        seed = tl.load(seed_ptr) + n
        for start in range(row0, row_end, BLOCK_ROWS):
            rows, offsets, ok = _tile(start, row_end, channels, cols, col_ok, BLOCK_ROWS)
            v = tl.load(x_ptr + offset + offsets, mask=ok, other=0.0).to(tl.float32)
            z = v * scale[None, :] + shift[None, :]
            if SILU:
                z = z * tl.sigmoid(z)
            if DROPOUT:
                z = _dropout(z, seed, rows, keep_prob, inv_keep, BLOCK_C)
            tl.store(y_ptr + offset + offsets, z.to(y_ptr.dtype.element_ty), mask=ok)

    @triton.jit
    def _backward_sums(
        g_ptr, x_ptr, scale_ptr, shift_ptr, rstd_ptr, mean_ptr, seed_ptr, sum_ptr, sum_xhat_ptr,
        pixels, channels, rows_per_program, keep_prob, inv_keep,
        SILU: tl.constexpr, DROPOUT: tl.constexpr, BLOCK_ROWS: tl.constexpr, BLOCK_C: tl.constexpr,
    ):  # fmt: skip
        """Per (sample, program, channel): sums of dz and of dz * x_hat (dz: gradient at the norm's
        output; x_hat = (x - mean) * rstd, mean and rstd per (sample, channel))."""
        n, offset, cols, col_ok, row0, row_end = _program(pixels, channels, rows_per_program, BLOCK_C)
        scale = _sample_row(scale_ptr, n, channels, BLOCK_C)
        shift = _sample_row(shift_ptr, n, channels, BLOCK_C)
        rstd = _sample_row(rstd_ptr, n, channels, BLOCK_C)
        mean = _sample_row(mean_ptr, n, channels, BLOCK_C)
        seed = tl.load(seed_ptr) + n
        total = tl.zeros((BLOCK_ROWS, BLOCK_C), tl.float32)
        total_xhat = tl.zeros((BLOCK_ROWS, BLOCK_C), tl.float32)
        for start in range(row0, row_end, BLOCK_ROWS):
            rows, offsets, ok = _tile(start, row_end, channels, cols, col_ok, BLOCK_ROWS)
            v, g = _input_and_gradient(x_ptr + offset + offsets, g_ptr + offset + offsets, ok, scale, shift, seed, rows, keep_prob, inv_keep, SILU, DROPOUT, BLOCK_C)
            total += g
            total_xhat += g * ((v - mean[None, :]) * rstd[None, :])
        _store_sums(sum_ptr, sum_xhat_ptr, total, total_xhat, n, channels, cols, col_ok)

    @triton.jit
    def _backward_apply(
        g_ptr, x_ptr, dx_ptr, scale_ptr, shift_ptr, a_ptr, b_ptr, c_ptr, seed_ptr,
        pixels, channels, rows_per_program, keep_prob, inv_keep,
        SILU: tl.constexpr, DROPOUT: tl.constexpr, BLOCK_ROWS: tl.constexpr, BLOCK_C: tl.constexpr,
    ):  # fmt: skip
        """dx = a * dz + b * x + c, with a, b, c per (sample, channel)."""
        n, offset, cols, col_ok, row0, row_end = _program(pixels, channels, rows_per_program, BLOCK_C)
        scale = _sample_row(scale_ptr, n, channels, BLOCK_C)
        shift = _sample_row(shift_ptr, n, channels, BLOCK_C)
        a = _sample_row(a_ptr, n, channels, BLOCK_C)
        b = _sample_row(b_ptr, n, channels, BLOCK_C)
        c = _sample_row(c_ptr, n, channels, BLOCK_C)
        seed = tl.load(seed_ptr) + n
        for start in range(row0, row_end, BLOCK_ROWS):
            rows, offsets, ok = _tile(start, row_end, channels, cols, col_ok, BLOCK_ROWS)
            v, g = _input_and_gradient(x_ptr + offset + offsets, g_ptr + offset + offsets, ok, scale, shift, seed, rows, keep_prob, inv_keep, SILU, DROPOUT, BLOCK_C)
            dx = a[None, :] * g + b[None, :] * v + c[None, :]
            tl.store(dx_ptr + offset + offsets, dx.to(dx_ptr.dtype.element_ty), mask=ok)

    def _scale_shift(weight: Tensor, bias: Tensor, mean: Tensor, rstd: Tensor, shift: Tensor | None) -> tuple[Tensor, Tensor]:
        """Per (sample, channel) a, b with GroupNorm's affine output of x + shift = x * a + b."""
        scale = _per_channel(rstd, weight.shape[0]) * weight.float()
        offset = bias.float() - _per_channel(mean, weight.shape[0]) * scale
        if shift is not None:
            offset = offset + shift.float() * scale
        return scale.contiguous(), offset.contiguous()

    # torch.library reads the operators' schemas from their annotations (real types, not strings:
    # this module does not postpone annotations).
    @torch.library.triton_op("ddpm::group_norm_act", mutates_args=())
    def _group_norm_act_op(
        x: Tensor, weight: Tensor, bias: Tensor, shift: Optional[Tensor], seed: Tensor, num_groups: int, eps: float, silu: bool, dropout: float
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(dropout(silu(group_norm(x + shift))), mean, rstd, deviation): mean and rstd (N, groups) of
        x + shift, deviation (N, C) the sum over pixels of x + shift - mean; float32."""
        n, pixels, channels, rows_per_program, block_rows, block_c = _layout(x)
        grid = _grid(n, pixels, rows_per_program)
        sums = x.new_empty((n, grid[1], channels), dtype=torch.float32)
        sums_sq = torch.empty_like(sums)
        torch.library.wrap_triton(_forward_sums)[grid](x, sums, sums_sq, pixels, channels, rows_per_program, BLOCK_ROWS=block_rows, BLOCK_C=block_c)
        # Per channel: its first pixel k, sum of x - k, sum of (x - k)^2; then about the group mean.
        # A shift per channel moves k with x and leaves those sums as they are.
        centre = x[:, :, 0, 0].float()
        if shift is not None:
            centre = centre + shift.float()
        per_group = channels // num_groups
        count = pixels * per_group
        channel_sum = sums.sum(1)
        mean = (centre + channel_sum / pixels).view(n, num_groups, per_group).mean(2)
        d = _per_channel(mean, channels) - centre
        squares = sums_sq.sum(1) - 2 * d * channel_sum + pixels * d * d
        var = (squares.view(n, num_groups, per_group).sum(2) / count).clamp_min(0)
        rstd = torch.rsqrt(var + eps)
        scale, offset = _scale_shift(weight, bias, mean, rstd, shift)
        y = _like_channels_last(x)
        keep_prob = 1.0 - dropout
        torch.library.wrap_triton(_forward_apply)[grid](
            x, y, scale, offset, seed, pixels, channels, rows_per_program, keep_prob, 1.0 / keep_prob,
            SILU=silu, DROPOUT=dropout > 0, BLOCK_ROWS=block_rows, BLOCK_C=block_c,
        )  # fmt: skip
        return y, mean, rstd, channel_sum - pixels * d

    @torch.library.triton_op("ddpm::group_norm_act_backward", mutates_args=())
    def _group_norm_act_backward_op(
        grad: Tensor, x: Tensor, weight: Tensor, bias: Tensor, shift: Optional[Tensor], mean: Tensor, rstd: Tensor,
        deviation: Tensor, seed: Tensor, silu: bool, dropout: float,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
        """(dx, dweight, dbias, dshift) of :func:`_group_norm_act_op` for the gradient ``grad`` of its
        output (dshift: zeros without a shift)."""
        n, pixels, channels, rows_per_program, block_rows, block_c = _layout(x)
        grid = _grid(n, pixels, rows_per_program)
        grad = grad.contiguous(memory_format=torch.channels_last)
        num_groups = mean.shape[1]
        scale, offset = _scale_shift(weight, bias, mean, rstd, shift)
        rstd_c = _per_channel(rstd, channels).contiguous()
        # x_hat = (x + shift - mean) * rstd: the kernels see x, whose group mean is mean - shift.
        x_mean = _per_channel(mean, channels)
        if shift is not None:
            x_mean = x_mean - shift.float()
        sums = x.new_empty((n, grid[1], channels), dtype=torch.float32)
        sums_xhat = torch.empty_like(sums)
        keep_prob = 1.0 - dropout
        flags = dict(SILU=silu, DROPOUT=dropout > 0, BLOCK_ROWS=block_rows, BLOCK_C=block_c)
        torch.library.wrap_triton(_backward_sums)[grid](
            grad, x, scale, offset, rstd_c, x_mean.contiguous(), seed, sums, sums_xhat,
            pixels, channels, rows_per_program, keep_prob, 1.0 / keep_prob, **flags,
        )  # fmt: skip
        channel_sum, channel_sum_xhat = sums.sum(1), sums_xhat.sum(1)  # (N, C)
        # dx = rstd * (w dz - mean_group(w dz) - x_hat * mean_group(w dz x_hat)), x_hat = (x - mean) rstd,
        # written as a * dz + b * x + c per (sample, channel).
        count = pixels * (channels // num_groups)
        w = weight.float()
        mean_wdz = (channel_sum * w).view(n, num_groups, -1).sum(2) / count
        mean_wdz_xhat = (channel_sum_xhat * w).view(n, num_groups, -1).sum(2) / count
        a = scale  # rstd * w per (sample, channel)
        b = _per_channel(-rstd * rstd * mean_wdz_xhat, channels)
        c = _per_channel(rstd * (rstd * mean * mean_wdz_xhat - mean_wdz), channels)
        # dshift = the sum over pixels of dx = a * sum(dz) + b * sum(x + shift - mean) - rstd * mean_group(w dz)
        # * pixels (the last two terms from b * (x + shift) + c, regrouped to avoid cancellation).
        dshift = a * channel_sum + b * deviation - _per_channel(rstd * mean_wdz, channels) * pixels
        if shift is not None:
            c = c + b * shift.float()
        dx = _like_channels_last(x)
        torch.library.wrap_triton(_backward_apply)[grid](
            grad, x, dx, scale, offset, a.contiguous(), b.contiguous(), c.contiguous(), seed, pixels, channels, rows_per_program, keep_prob, 1.0 / keep_prob, **flags
        )
        return dx, channel_sum_xhat.sum(0).to(weight.dtype), channel_sum.sum(0).to(bias.dtype), dshift

    def _setup_context(ctx, inputs, output) -> None:
        x, weight, bias, shift, seed, _num_groups, _eps, silu, dropout = inputs
        _, mean, rstd, deviation = output
        ctx.save_for_backward(x, weight, bias, shift, mean, rstd, deviation, seed)
        ctx.silu, ctx.dropout = silu, dropout

    def _backward(ctx, grad, _grad_mean, _grad_rstd, _grad_deviation):
        x, weight, bias, shift, mean, rstd, deviation, seed = ctx.saved_tensors
        dx, dweight, dbias, dshift = torch.ops.ddpm.group_norm_act_backward(
            grad, x, weight, bias, shift, mean, rstd, deviation, seed, ctx.silu, ctx.dropout
        )
        return dx, dweight, dbias, None if shift is None else dshift.to(shift.dtype), None, None, None, None, None

    _group_norm_act_op.register_autograd(_backward, setup_context=_setup_context)
