// The CUDA kernels of this folder compiled as host C++ (g++), so that CI without a GPU runs the
// exact source CuPy and nvcc compile: force-included before that source by csrc/emulate.cpp
// (built by hqsim/backends/cuda_emulated.py). Nothing in kernels/ knows about it except the one
// macro HQ_DYNAMIC_SHARED, which this header redefines.
//
// One block runs at a time. Each CUDA thread of the block is a fiber (its own stack; threadIdx
// is the running fiber's), and fibers switch only at __syncthreads and warp shuffles: a fiber
// runs until it reaches one, then the next fiber runs. So a missing barrier is not hidden by
// luck: every thread finishes its whole segment before the next starts. HQEMU_THREADS=1 builds
// the same with one OS thread per CUDA thread and std::barrier, for ThreadSanitizer.
//
// Shared memory: the dynamic array is a per-launch buffer poisoned with 0xFF bytes (NaN) before
// every block; static __shared__ arrays become function-local statics (shared by the block's
// threads; blocks never overlap). Warp shuffles go through a per-warp exchange buffer.
#pragma once

#ifndef HQEMU_THREADS
#define HQEMU_THREADS 0
#endif

// Standard headers first: the CUDA keyword macros below must not reach them.
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>
#if HQEMU_THREADS
#include <barrier>
#include <memory>
#include <thread>
#elif !defined(__x86_64__)
#include <ucontext.h>
#endif

namespace hqemu {

struct uint3 {
    unsigned x, y, z;
};

// Run-time settings (set from Python through hqemu_configure in csrc/emulate.cpp).
struct Settings {
    int skip_line = -1;  // a __syncthreads at this source line does nothing (proves the tests bite)
    int order = 0;       // threads and blocks run 0: in order, 1: reversed, 2: shuffled
    unsigned seed = 0;
};
inline Settings settings;

inline uint3 g_block_idx, g_block_dim, g_grid_dim;
inline unsigned char* g_dynamic_smem = nullptr;
constexpr unsigned MAX_THREADS = 1024, WARP = 32;

// The body every thread of a launch runs: the kernel called with the launch's argument slots.
using Thunk = void (*)(void (*)(), const std::uint64_t*);
struct Launch {
    Thunk thunk;
    void (*kernel)();
    const std::uint64_t* slots;
    void run() const { thunk(kernel, slots); }
};

// Order in which threads (or blocks) are visited.
inline std::vector<unsigned> visit_order(unsigned n, unsigned salt) {
    std::vector<unsigned> v(n);
    for (unsigned i = 0; i < n; ++i) v[i] = i;
    if (settings.order == 1) std::reverse(v.begin(), v.end());
    if (settings.order == 2) {
        std::mt19937 rng(settings.seed * 2654435761u + salt);
        std::shuffle(v.begin(), v.end(), rng);
    }
    return v;
}

inline uint3 unflatten(unsigned i, uint3 dim) { return {i % dim.x, (i / dim.x) % dim.y, i / (dim.x * dim.y)}; }

#if !HQEMU_THREADS
// ------------------------------------------------------------------ fibers on one OS thread
#if defined(__x86_64__)
// switch_stack(&save_sp, next_sp): push the callee-saved registers and the FP control words,
// save rsp, load next_sp, pop the same and return into the other fiber (no syscall, unlike
// swapcontext). A new fiber's stack is laid out so that the first switch "returns" into
// fiber_entry.
extern "C" void hqemu_switch_stack(void** save_sp, void* next_sp);
asm(R"(
    .text
    .globl hqemu_switch_stack
    .hidden hqemu_switch_stack
    .type hqemu_switch_stack,@function
hqemu_switch_stack:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size hqemu_switch_stack, .-hqemu_switch_stack
)");
#endif

enum State { READY, WAIT_BLOCK, WAIT_WARP, DONE };

struct Fiber {
    uint3 tid;
    unsigned lane, warp, shuffles = 0;
    State state = READY;
    int line = 0;  // source line of the barrier it waits at
    char* stack = nullptr;
#if defined(__x86_64__)
    void* sp = nullptr;
#else
    ucontext_t ctx;
#endif
};

constexpr std::size_t STACK_BYTES = 256 * 1024;

struct Block {
    Launch launch;
    std::vector<Fiber> fibers;
    std::vector<unsigned> order;  // visiting order of the fibers in each round
    unsigned pos = 0;             // position in order of the running fiber
    unsigned live = 0;
    std::uint64_t shfl[2][MAX_THREADS / WARP][WARP];
#if defined(__x86_64__)
    void* main_sp = nullptr;
#else
    ucontext_t main_ctx;
#endif
};

inline Block* g_block = nullptr;
inline Fiber* g_cur = nullptr;

// Fiber stacks: mapped once, each with a guard page below it (an overflow faults, never corrupts).
inline char* fiber_stack(unsigned i) {
    static std::vector<char*> stacks;
    while (stacks.size() <= i) {
        const std::size_t page = 4096;
        void* m = mmap(nullptr, STACK_BYTES + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) throw std::runtime_error("hqemu: cannot map a fiber stack");
        mprotect(m, page, PROT_NONE);
        stacks.push_back(static_cast<char*>(m) + page);
    }
    return stacks[i];
}

// Switch from the running fiber to the next READY one of this round, or back to the scheduler
// when the round is over (one switch per handoff, not two).
inline void to_scheduler() {
    Block& b = *g_block;
    Fiber* from = g_cur;
    while (++b.pos < b.order.size()) {
        Fiber& next = b.fibers[b.order[b.pos]];
        if (next.state != READY) continue;
        g_cur = &next;
#if defined(__x86_64__)
        hqemu_switch_stack(&from->sp, next.sp);
#else
        swapcontext(&from->ctx, &next.ctx);
#endif
        return;
    }
#if defined(__x86_64__)
    hqemu_switch_stack(&from->sp, b.main_sp);
#else
    swapcontext(&from->ctx, &b.main_ctx);
#endif
}

inline void fiber_entry() {
    g_block->launch.run();
    g_cur->state = DONE;
    --g_block->live;
    to_scheduler();  // never resumed
    std::abort();
}

inline void start_fiber(Fiber& f, unsigned index) {
    f.stack = fiber_stack(index);
#if defined(__x86_64__)
    // [fp control words][r15 r14 r13 r12 rbx rbp][return address = fiber_entry][pad]; the
    // return-address slot is 16-byte aligned so fiber_entry starts with the ABI's alignment.
    auto top = reinterpret_cast<std::uintptr_t>(f.stack + STACK_BYTES) & ~std::uintptr_t(15);
    auto* slot = reinterpret_cast<std::uint64_t*>(top - 16);
    slot[0] = reinterpret_cast<std::uint64_t>(&fiber_entry);
    slot[1] = 0;
    std::uint64_t* sp = slot - 7;
    for (int k = 1; k < 7; ++k) sp[k] = 0;
    sp[0] = 0x1F80ull | (0x037Full << 32);  // default MXCSR | x87 control word
    f.sp = sp;
#else
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = f.stack;
    f.ctx.uc_stack.ss_size = STACK_BYTES;
    f.ctx.uc_link = nullptr;
    makecontext(&f.ctx, &fiber_entry, 0);
#endif
}

inline void resume(Fiber& f) {
    g_cur = &f;
#if defined(__x86_64__)
    hqemu_switch_stack(&g_block->main_sp, f.sp);
#else
    swapcontext(&g_block->main_ctx, &f.ctx);
#endif
}

inline std::string describe_waits(const Block& b) {
    std::string s;
    for (const Fiber& f : b.fibers)
        if (f.state == WAIT_BLOCK || f.state == WAIT_WARP) {
            s += " thread " + std::to_string(&f - b.fibers.data()) + (f.state == WAIT_BLOCK ? " at __syncthreads" : " at a warp shuffle") +
                 " (line " + std::to_string(f.line) + ")";
            if (s.size() > 400) return s + " ...";
        }
    return s;
}

// Release barriers whose every live participant has arrived; false when none can be released.
inline bool release(Block& b) {
    bool any = false;
    unsigned at_block = 0;
    int line = -1;
    bool same_line = true;
    for (Fiber& f : b.fibers)
        if (f.state == WAIT_BLOCK) {
            ++at_block;
            if (line >= 0 && f.line != line) same_line = false;
            line = f.line;
        }
    if (at_block == b.live && at_block > 0) {
        if (!same_line) throw std::runtime_error("hqemu: threads of one block wait at different __syncthreads:" + describe_waits(b));
        for (Fiber& f : b.fibers)
            if (f.state == WAIT_BLOCK) f.state = READY;
        return true;
    }
    const unsigned nwarps = (b.fibers.size() + WARP - 1) / WARP;
    for (unsigned w = 0; w < nwarps; ++w) {
        unsigned live = 0, waiting = 0;
        for (unsigned l = w * WARP; l < std::min<std::size_t>(b.fibers.size(), (w + 1) * WARP); ++l) {
            live += b.fibers[l].state != DONE;
            waiting += b.fibers[l].state == WAIT_WARP;
        }
        if (waiting > 0 && waiting == live) {
            for (unsigned l = w * WARP; l < std::min<std::size_t>(b.fibers.size(), (w + 1) * WARP); ++l)
                if (b.fibers[l].state == WAIT_WARP) b.fibers[l].state = READY;
            any = true;
        }
    }
    return any;
}

inline void run_block(const Launch& launch, unsigned threads) {
    static Block block;
    block.launch = launch;
    block.fibers.assign(threads, Fiber{});
    block.live = threads;
    for (unsigned i = 0; i < threads; ++i) {
        Fiber& f = block.fibers[i];
        f.tid = unflatten(i, g_block_dim);
        f.lane = i % WARP;
        f.warp = i / WARP;
        start_fiber(f, i);
    }
    g_block = &block;
    block.order = visit_order(threads, g_block_idx.x * 7919u + g_block_idx.y);
    while (block.live > 0) {
        for (block.pos = 0; block.pos < threads; ++block.pos)  // the fibers hand over among themselves
            if (block.fibers[block.order[block.pos]].state == READY) {
                resume(block.fibers[block.order[block.pos]]);
                break;
            }
        if (block.live > 0 && !release(block))
            throw std::runtime_error("hqemu: deadlock, a barrier that not every thread reaches:" + describe_waits(block));
    }
}

inline const uint3& thread_idx() { return g_cur->tid; }

inline void sync_block(int line) {
    if (line == settings.skip_line) return;
    g_cur->state = WAIT_BLOCK;
    g_cur->line = line;
    to_scheduler();
}

template <typename T>
T shfl_xor(T v, int mask) {
    static_assert(sizeof(T) <= 8, "shuffle of a value wider than 8 bytes");
    Fiber& f = *g_cur;
    const unsigned slot = f.shuffles++ & 1u;  // alternate buffers: no second barrier needed
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    g_block->shfl[slot][f.warp][f.lane] = bits;
    f.state = WAIT_WARP;
    f.line = 0;
    to_scheduler();
    bits = g_block->shfl[slot][f.warp][(f.lane ^ static_cast<unsigned>(mask)) & (WARP - 1)];
    std::memcpy(&v, &bits, sizeof(T));
    return v;
}

inline double atomic_add(double* p, double v) {
    const double old = *p;
    *p = old + v;
    return old;
}

#else
// ------------------------------------------------------------------ one OS thread per CUDA thread
struct ThreadBlock {
    std::unique_ptr<std::barrier<>> sync;
    std::vector<std::unique_ptr<std::barrier<>>> warps;
    std::uint64_t shfl[2][MAX_THREADS / WARP][WARP];
};
inline ThreadBlock g_tblock;
inline thread_local uint3 t_tid;
inline thread_local unsigned t_linear = 0, t_shuffles = 0;

inline const uint3& thread_idx() { return t_tid; }

inline void sync_block(int line) {
    if (line == settings.skip_line) return;
    g_tblock.sync->arrive_and_wait();
}

template <typename T>
T shfl_xor(T v, int mask) {
    const unsigned slot = t_shuffles++ & 1u, lane = t_linear % WARP, warp = t_linear / WARP;
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    std::atomic_ref<std::uint64_t>(g_tblock.shfl[slot][warp][lane]).store(bits, std::memory_order_relaxed);
    g_tblock.warps[warp]->arrive_and_wait();
    bits = std::atomic_ref<std::uint64_t>(g_tblock.shfl[slot][warp][(lane ^ static_cast<unsigned>(mask)) & (WARP - 1)])
               .load(std::memory_order_relaxed);
    std::memcpy(&v, &bits, sizeof(T));
    return v;
}

inline double atomic_add(double* p, double v) { return std::atomic_ref<double>(*p).fetch_add(v); }

// A grid runs on one team of threads created for the launch: each thread runs every block in
// turn; the gate between blocks (a barrier whose completion step prepares the next block)
// orders each block before the next. A thread that returns early waits at the gate, so a
// kernel must not call __syncthreads after some of its threads returned (the fiber build
// treats exited threads as CUDA does).
struct GridRun {
    std::vector<unsigned> order;
    std::size_t next = 0, smem = 0;
    unsigned char* dynamic = nullptr;
};
inline GridRun g_grid;

struct PrepareBlock {
    void operator()() noexcept {
        if (g_grid.next < g_grid.order.size()) {
            g_block_idx = unflatten(g_grid.order[g_grid.next], g_grid_dim);
            std::memset(g_grid.dynamic, 0xFF, g_grid.smem);  // unwritten shared memory reads as NaN
        }
        ++g_grid.next;
    }
};

inline void run_blocks(const Launch& launch, unsigned threads, unsigned blocks, unsigned char* dynamic,
                       std::size_t smem) {
    g_grid.order = visit_order(blocks, 12345u);
    g_grid.next = 0;
    g_grid.smem = smem;
    g_grid.dynamic = g_dynamic_smem = dynamic;
    g_tblock.sync = std::make_unique<std::barrier<>>(threads);
    g_tblock.warps.clear();
    for (unsigned w = 0; w < (threads + WARP - 1) / WARP; ++w)
        g_tblock.warps.push_back(std::make_unique<std::barrier<>>(std::min(WARP, threads - w * WARP)));
    std::barrier<PrepareBlock> gate(threads, PrepareBlock{});
    std::vector<std::thread> team;
    for (unsigned i = 0; i < threads; ++i)
        team.emplace_back([i, blocks, &launch, &gate] {
            t_tid = unflatten(i, g_block_dim);
            t_linear = i;
            for (unsigned k = 0; k < blocks; ++k) {
                gate.arrive_and_wait();
                t_shuffles = 0;
                launch.run();
            }
        });
    for (std::thread& t : team) t.join();
}
#endif

// A grid: every block in turn (in the order the settings ask for).
inline void run_grid(const Launch& launch, uint3 grid, uint3 block, std::size_t smem) {
    static std::vector<unsigned char> dynamic;
    if (dynamic.size() < smem + 16) dynamic.resize(smem + 16);
    g_grid_dim = grid;
    g_block_dim = block;
    const unsigned threads = block.x * block.y * block.z, blocks = grid.x * grid.y * grid.z;
#if HQEMU_THREADS
    run_blocks(launch, threads, blocks, dynamic.data(), smem);
#else
    for (unsigned b : visit_order(blocks, 12345u)) {
        g_block_idx = unflatten(b, grid);
        std::memset(dynamic.data(), 0xFF, smem);  // unwritten shared memory reads as NaN
        g_dynamic_smem = dynamic.data();
        run_block(launch, threads);
    }
#endif
}

}  // namespace hqemu

// ---- the CUDA vocabulary the kernels use --------------------------------------------------------
using hqemu::uint3;
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
#define __shared__ static
#define HQ_DYNAMIC_SHARED(name) static unsigned char* const& name = hqemu::g_dynamic_smem
#define threadIdx (hqemu::thread_idx())
#define blockIdx (hqemu::g_block_idx)
#define blockDim (hqemu::g_block_dim)
#define gridDim (hqemu::g_grid_dim)
#define __syncthreads() hqemu::sync_block(__LINE__)

template <typename T>
inline T __shfl_xor_sync(unsigned, T v, int mask) { return hqemu::shfl_xor(v, mask); }
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __ffs(int v) { return __builtin_ffs(v); }
inline double atomicAdd(double* p, double v) { return hqemu::atomic_add(p, v); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
