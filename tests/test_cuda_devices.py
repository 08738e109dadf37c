"""ddpm.cuda_devices: the same count as torch, from the driver, and torch where they could differ."""

from __future__ import annotations

import ctypes

import pytest
import torch

from ddpm import cuda_devices


def test_the_count_is_torchs():
    """The oracle: on this machine, with or without GPUs."""
    assert cuda_devices.cuda_device_count() == torch.cuda.device_count()


def test_the_build_is_read_from_torchs_version_file():
    build = cuda_devices.torch_build()
    if torch.version.hip:
        assert build == ("hip", None)
    elif torch.version.cuda:
        assert build == ("cuda", int(torch.version.cuda.split(".")[0]))
    else:
        assert build == ("cpu", None)


class FakeDriver:
    """libcuda's three calls: cuInit, cuDeviceGetCount, cuDriverGetVersion."""

    def __init__(self, init=0, count=2, version=13000):
        self.init, self.count, self.version = init, count, version

    def cuInit(self, flags):
        return self.init

    def cuDeviceGetCount(self, out):
        ctypes.cast(out, ctypes.POINTER(ctypes.c_int))[0] = self.count
        return 0

    def cuDriverGetVersion(self, out):
        ctypes.cast(out, ctypes.POINTER(ctypes.c_int))[0] = self.version
        return 0


@pytest.fixture
def linux_cuda13(monkeypatch):
    """A Linux machine with torch built for CUDA 13; torch itself would answer 99 if asked."""
    monkeypatch.setattr(cuda_devices.sys, "platform", "linux")
    monkeypatch.setattr(cuda_devices, "torch_build", lambda: ("cuda", 13))
    monkeypatch.setattr(cuda_devices, "_torch_device_count", lambda: 99)

    def driver(**kwargs):
        monkeypatch.setattr(cuda_devices.ctypes, "CDLL", lambda name: FakeDriver(**kwargs))

    return driver


def test_the_drivers_count(linux_cuda13):
    linux_cuda13(count=2, version=13000)
    assert cuda_devices.cuda_device_count() == 2


def test_no_usable_device_is_none(linux_cuda13):
    linux_cuda13(init=100)  # CUDA_ERROR_NO_DEVICE, e.g. CUDA_VISIBLE_DEVICES=""
    assert cuda_devices.cuda_device_count() == 0


def test_an_older_driver_than_torchs_cuda_asks_torch(linux_cuda13):
    linux_cuda13(count=2, version=12080)
    assert cuda_devices.cuda_device_count() == 99


def test_no_driver_is_no_device(linux_cuda13, monkeypatch):
    def missing(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(cuda_devices.ctypes, "CDLL", missing)
    assert cuda_devices.cuda_device_count() == 0


@pytest.mark.parametrize(
    "build, platform, expected",
    [(("cpu", None), "linux", 0), (("hip", None), "linux", 99), (None, "linux", 99), (("cuda", 13), "win32", 99)],
)
def test_builds_and_systems_the_driver_cannot_answer_for(monkeypatch, build, platform, expected):
    monkeypatch.setattr(cuda_devices.sys, "platform", platform)
    monkeypatch.setattr(cuda_devices, "torch_build", lambda: build)
    monkeypatch.setattr(cuda_devices, "_torch_device_count", lambda: 99)
    monkeypatch.setattr(cuda_devices.ctypes, "CDLL", lambda name: pytest.fail("the driver was asked"))
    assert cuda_devices.cuda_device_count() == expected
