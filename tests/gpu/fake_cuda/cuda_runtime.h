// A stand-in for the CUDA runtime's header, for compiling csrc/launch.cuh's host logic on a
// machine without CUDA (tests/gpu/test_compile_kernels.py): it counts device switches and
// launches instead of doing them.
#pragma once
#include <cstddef>

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
typedef int cudaError_t;
typedef void* cudaStream_t;
constexpr cudaError_t cudaSuccess = 0;
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };

inline int fake_current_device = 0, fake_set_device_calls = 0, fake_launches = 0;
inline cudaError_t cudaGetDevice(int* d) { *d = fake_current_device; return cudaSuccess; }
inline cudaError_t cudaSetDevice(int d) { ++fake_set_device_calls; fake_current_device = d; return cudaSuccess; }
inline cudaError_t cudaFuncSetAttribute(const void*, cudaFuncAttribute, int) { return cudaSuccess; }
inline cudaError_t cudaLaunchKernel(const void*, dim3, dim3, void**, std::size_t, cudaStream_t) {
    ++fake_launches;
    return cudaSuccess;
}
inline const char* cudaGetErrorString(cudaError_t) { return "fake error"; }
