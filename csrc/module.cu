// The pybind11 module hqsim.backends._hqsim_cuda: a thin binding over csrc/launch.cuh.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "launch.cuh"

PYBIND11_MODULE(_hqsim_cuda, m) {
    m.doc() = "hqsim CUDA kernels (kernels/), launched by name; see hqsim/backends/cuda_ext.py";
    m.def("launch", &hqext::launch, "launch(name, device, grid, block, smem, stream, slots)");
    m.def("kernel_names", &hqext::kernel_names);
}
