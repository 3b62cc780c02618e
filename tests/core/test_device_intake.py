"""The device backends' argument intake reads no device memory (issue 12: every call forced
host syncs on the finiteness of x, w and the cotangent and on the amplitude norms). Runs without
a GPU: DeviceTensor (sync_spy.py) records every host read a CUDA tensor would pay for."""
import numpy as np
import pytest
import torch

from hqsim.backends import available_backends, get_backend
from hqsim.backends.cuda_run import as_device_tensor

from .sync_spy import SPY, DeviceTensor


@pytest.mark.parametrize("what, shape", [("inputs", (4, 3)), ("weights", (5,)), ("cotangent", (4, 2))])
def test_as_device_tensor_reads_no_device_memory(what, shape):
    t = DeviceTensor.wrap(torch.rand(*shape, dtype=torch.float64))
    t[0] = float("nan")  # not its job: the executor checks values without a sync
    with SPY.recording():
        out = as_device_tensor(t, what, len(shape), t.device)
    assert SPY.host_reads() == []
    assert out.data_ptr() == t.data_ptr()  # float64 and contiguous already: no copy


def test_as_device_tensor_still_checks_numpy_on_the_host():
    bad = np.zeros((2, 3))
    bad[1, 1] = np.inf
    with pytest.raises(ValueError, match="inputs contain NaN or inf"):
        as_device_tensor(bad, "inputs", 2, torch.device("cpu"))


@pytest.mark.parametrize("name", ["reference", "numba"])
def test_host_backends_declare_numpy_arrays(name):
    assert get_backend(name).arrays == "numpy"


def test_device_backends_declare_torch_arrays():
    from hqsim.backends.cuda import CudaBackend
    assert CudaBackend.arrays == "torch"
    assert "cuda" not in available_backends() or get_backend("cuda").arrays == "torch"
