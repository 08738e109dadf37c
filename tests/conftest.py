"""Test-wide settings."""

import torch

# One intra-op thread: the tensors in these tests are tiny, and with two threads on a busy
# 2-core machine OpenMP's spinning made small convolutions 100x slower (24 ms instead of 0.06 ms).
torch.set_num_threads(1)
