// Host side of the CPU emulation of the kernels (the "cpu-emulated" device of the CUDA backend):
// kernels/host_shim.h, then the exact single-source text CuPy compiles (HQ_SINGLE_SOURCE, written
// by hqsim/backends/cuda_emulated.py), then a launch-by-name table over kernel_list.h, as
// csrc/launch.cuh does for the GPU. A C API for ctypes: no Python headers needed.
//
// Unlike cudaLaunchKernel, a launch here checks the argument slots against the kernel's
// parameter list (count and kind: p pointer, i int, u unsigned, d double).
#include "host_shim.h"

#include HQ_SINGLE_SOURCE

#include <cstdio>
#include <utility>

namespace hqemu {

template <typename T>
T from_slot(std::uint64_t v) {
    T t;
    std::memcpy(&t, &v, sizeof(T));
    return t;
}

template <typename T>
constexpr char kind_of() {
    if constexpr (std::is_pointer_v<T>) return 'p';
    else if constexpr (std::is_same_v<T, int>) return 'i';
    else if constexpr (std::is_same_v<T, unsigned>) return 'u';
    else if constexpr (std::is_same_v<T, double>) return 'd';
    else return '?';
}

template <typename... A, std::size_t... I>
void call(void (*f)(A...), const std::uint64_t* slots, std::index_sequence<I...>) {
    f(from_slot<A>(slots[I])...);
}

template <typename... A>
void thunk(void (*generic)(), const std::uint64_t* slots) {
    call(reinterpret_cast<void (*)(A...)>(generic), slots, std::index_sequence_for<A...>{});
}

struct Entry {
    const char* name;
    void (*kernel)();
    Thunk thunk;
    std::string kinds;
};

template <typename... A>
Entry entry(const char* name, void (*f)(A...)) {
    return Entry{name, reinterpret_cast<void (*)()>(f), &thunk<A...>, std::string{kind_of<A>()...}};
}

inline const std::vector<Entry>& table() {
    static const std::vector<Entry> t = {
#define HQ_ENTRY(k) entry(#k, &k),
        HQ_FOR_EACH_KERNEL(HQ_ENTRY)
#undef HQ_ENTRY
    };
    return t;
}

inline int fail(char* err, int errlen, const std::string& msg) {
    std::snprintf(err, static_cast<std::size_t>(errlen), "%s", msg.c_str());
    return 1;
}

}  // namespace hqemu

extern "C" {

__attribute__((visibility("default"))) int hqemu_kernel_count() { return static_cast<int>(hqemu::table().size()); }

__attribute__((visibility("default"))) const char* hqemu_kernel_name(int i) { return hqemu::table().at(i).name; }

__attribute__((visibility("default"))) const char* hqemu_kernel_kinds(int i) { return hqemu::table().at(i).kinds.c_str(); }

__attribute__((visibility("default"))) int hqemu_threaded() { return HQEMU_THREADS; }

// skip_line: a __syncthreads at this line of the single source does nothing (-1: none);
// order: threads and blocks visited 0 in order, 1 reversed, 2 shuffled with seed.
__attribute__((visibility("default"))) void hqemu_configure(int skip_line, int order, unsigned seed) {
    hqemu::settings = hqemu::Settings{skip_line, order, seed};
}

// 0 on success; otherwise 1 and a message in err.
__attribute__((visibility("default"))) int hqemu_launch(const char* name, const unsigned* grid, const unsigned* block,
                                                        unsigned long long smem, const std::uint64_t* slots,
                                                        const char* kinds, char* err, int errlen) {
    using namespace hqemu;
    const Entry* e = nullptr;
    for (const Entry& x : table())
        if (std::strcmp(x.name, name) == 0) e = &x;
    if (e == nullptr) return fail(err, errlen, std::string("unknown hqsim kernel: ") + name);
    if (e->kinds != kinds)
        return fail(err, errlen, std::string(name) + ": arguments (" + kinds + ") do not match its parameters (" + e->kinds + ")");
    const unsigned threads = block[0] * block[1] * block[2];
    if (threads == 0 || threads > MAX_THREADS || block[2] > 64)
        return fail(err, errlen, std::string(name) + ": invalid block of " + std::to_string(threads) + " threads");
    if (grid[0] == 0 || grid[1] == 0 || grid[2] == 0 || grid[1] > 65535 || grid[2] > 65535)
        return fail(err, errlen, std::string(name) + ": invalid grid (" + std::to_string(grid[0]) + ", " +
                                     std::to_string(grid[1]) + ", " + std::to_string(grid[2]) + ")");
    try {
        run_grid(Launch{e->thunk, e->kernel, slots}, uint3{grid[0], grid[1], grid[2]}, uint3{block[0], block[1], block[2]},
                 static_cast<std::size_t>(smem));
    } catch (const std::exception& ex) {
        return fail(err, errlen, std::string(name) + ": " + ex.what());
    }
    return 0;
}

}  // extern "C"
