"""Test-wide settings."""

import torch

# One intra-op thread: the tensors in these tests are tiny, and on a machine whose cores are busy
# OpenMP's spinning threads make small convolutions orders of magnitude slower.
torch.set_num_threads(1)
