// Host side of the extension: the kernels compiled into this module and a launch by name.
// All planning (paths, grids, shared memory, buffers) stays in Python (hqsim/backends/
// cuda_plan.py); this file only turns a name and 64-bit argument slots into cudaLaunchKernel.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "hqsim_kernels.cu"

namespace hqext {

inline const void* kernel_by_name(const std::string& name) {
    static const std::unordered_map<std::string, const void*> table = {
#define HQ_ENTRY(k) {#k, reinterpret_cast<const void*>(&k)},
        HQ_FOR_EACH_KERNEL(HQ_ENTRY)
#undef HQ_ENTRY
    };
    auto it = table.find(name);
    if (it == table.end()) throw std::invalid_argument("unknown hqsim kernel: " + name);
    return it->second;
}

inline std::vector<std::string> kernel_names() {
    std::vector<std::string> out;
#define HQ_NAME(k) out.push_back(#k);
    HQ_FOR_EACH_KERNEL(HQ_NAME)
#undef HQ_NAME
    return out;
}

// Make `device` current only when it is not already: cudaSetDevice on every launch costs a
// driver call each time (and the caller's device is almost always current already).
inline cudaError_t ensure_device(int device) {
    int current = -1;
    const cudaError_t err = cudaGetDevice(&current);
    if (err != cudaSuccess) return err;
    return current == device ? cudaSuccess : cudaSetDevice(device);
}

inline void check(cudaError_t err, const std::string& what) {
    if (err != cudaSuccess) throw std::runtime_error(what + ": " + cudaGetErrorString(err));
}

// Each slot holds one kernel argument in its low bytes (4-byte ints, 8-byte pointers/doubles);
// cudaLaunchKernel copies each parameter's size from its slot.
inline void launch(const std::string& name, int device, std::vector<unsigned> grid, unsigned block, size_t smem,
                   std::uintptr_t stream, std::vector<std::uint64_t> slots) {
    if (grid.size() != 3) throw std::invalid_argument("grid must have 3 dimensions");
    const void* f = kernel_by_name(name);
    check(ensure_device(device), "cudaSetDevice");
    if (smem > 48 * 1024)
        check(cudaFuncSetAttribute(f, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)),
              name + ": cudaFuncSetAttribute(" + std::to_string(smem) + " bytes of shared memory)");
    std::vector<void*> args(slots.size());
    for (size_t i = 0; i < slots.size(); ++i) args[i] = &slots[i];
    check(cudaLaunchKernel(f, dim3(grid[0], grid[1], grid[2]), dim3(block), args.data(), smem,
                           reinterpret_cast<cudaStream_t>(stream)),
          "launching " + name);
}

}  // namespace hqext
