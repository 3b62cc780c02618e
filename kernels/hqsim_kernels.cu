// extern "C" entry points of every hqsim kernel: the names CuPy's RawModule looks up and the
// table the pybind11 extension (csrc/) launches from. Real-typed kernels are generated for
// float (suffix _f32, complex64 states) and double (_f64, complex128) by HQ_INSTANTIATE below;
// the list of names lives in kernel_list.h so the host code cannot drift from it.
#include "blocked.cuh"
#include "kernel_list.h"

#define HQ_INSTANTIATE(real, sfx)                                                                      \
    extern "C" __global__ void __launch_bounds__(512) hq_forward_resident_##sfx(                     \
        HQ_PROGRAM_PARAMS, const double* x, const double* w, int batch, int n_in, double* out,        \
        real* states, int want_states, int samples_per_block, int threads_per_sample) {               \
        hq::forward_resident<real>(HQ_PROGRAM_STRUCT, x, w, batch, n_in, out, states, want_states != 0, \
                                   samples_per_block, threads_per_sample);                            \
    }                                                                                                  \
    extern "C" __global__ void __launch_bounds__(512) hq_vjp_resident_##sfx(                         \
        HQ_PROGRAM_PARAMS, const double* x, const double* w, const double* cot, int batch, int n_in,  \
        int n_w, double* dw_part, double* dx, int need_x, int samples_per_block,                      \
        int threads_per_sample) {                                                                      \
        hq::vjp_resident<real>(HQ_PROGRAM_STRUCT, x, w, cot, batch, n_in, n_w, dw_part, dx, need_x != 0, \
                               samples_per_block, threads_per_sample);                                \
    }                                                                                                  \
    extern "C" __global__ void hq_init_states_##sfx(HQ_PROGRAM_PARAMS, const double* x, int n_in,    \
                                                    int batch, const double* norms, real* psi) {       \
        hq::init_states<real>(HQ_PROGRAM_STRUCT, x, n_in, batch, norms, psi);                         \
    }                                                                                                  \
    extern "C" __global__ void hq_op_matrices_##sfx(HQ_PROGRAM_PARAMS, const double* x, const double* w, \
                                                    int n_in, int batch, real* op_mats) {             \
        hq::op_matrices<real>(HQ_PROGRAM_STRUCT, x, w, n_in, batch, op_mats);                         \
    }                                                                                                  \
    extern "C" __global__ void __launch_bounds__(256) hq_local_pass_##sfx(                            \
        HQ_PROGRAM_PARAMS, const real* op_mats, real* psi, int i0, int i1, unsigned tmask,             \
        int tile_bits) {                                                                               \
        hq::local_pass<real>(HQ_PROGRAM_STRUCT, op_mats, psi, i0, i1, tmask, tile_bits);              \
    }                                                                                                  \
    extern "C" __global__ void __launch_bounds__(256) hq_adjoint_pass_##sfx(                          \
        HQ_PROGRAM_PARAMS, const real* op_mats, real* psi, real* lam, int i0, int i1, unsigned tmask,  \
        int tile_bits, const int* mofs, int mrec, double* mpart) {                                     \
        hq::adjoint_pass<real>(HQ_PROGRAM_STRUCT, op_mats, psi, lam, i0, i1, tmask, tile_bits, mofs,  \
                               mrec, mpart);                                                           \
    }                                                                                                  \
    extern "C" __global__ void hq_permute_states_##sfx(const int* perms, int row, int num_qubits,    \
                                                       int batch, const real* src, real* dst) {        \
        hq::permute_states<real>(perms + ((long long)row << num_qubits), num_qubits, batch, src, dst); \
    }                                                                                                  \
    extern "C" __global__ void hq_weighted_observable_##sfx(HQ_PROGRAM_PARAMS, const double* cot,    \
                                                            int batch, const real* psi, real* lam) {   \
        hq::weighted_observable_states<real>(HQ_PROGRAM_STRUCT, cot, batch, psi, lam);                \
    }                                                                                                  \
    extern "C" __global__ void __launch_bounds__(256) hq_expect_partial_##sfx(                        \
        HQ_PROGRAM_PARAMS, const real* psi, int nchunks, double* partial) {                           \
        hq::expect_partial<real>(HQ_PROGRAM_STRUCT, psi, nchunks, partial);                           \
    }                                                                                                  \
    extern "C" __global__ void __launch_bounds__(256) hq_amp_grad_##sfx(                              \
        HQ_PROGRAM_PARAMS, const double* x, int n_in, const real* lam, double* dx) {                  \
        hq::amp_grad<real>(HQ_PROGRAM_STRUCT, x, n_in, lam, dx);                                      \
    }

HQ_INSTANTIATE(float, f32)
HQ_INSTANTIATE(double, f64)

// Kernels that never touch a state, so they exist once.
extern "C" __global__ void __launch_bounds__(256) hq_chain_pass(
    HQ_PROGRAM_PARAMS, const double* x, const double* w, int n_in, int n_tiles, int i0, int i1, const int* mofs,
    int mrec, const double* mpart, double* dw_rows, int n_w, double* dx, int need_x) {
    hq::chain_pass(HQ_PROGRAM_STRUCT, x, w, n_in, n_tiles, i0, i1, mofs, mrec, mpart, dw_rows, n_w, dx, need_x != 0);
}
extern "C" __global__ void hq_expect_finish(HQ_PROGRAM_PARAMS, const double* partial, int batch, int nchunks,
                                            double* out) {
    hq::expect_finish(HQ_PROGRAM_STRUCT, partial, batch, nchunks, out);
}
extern "C" __global__ void __launch_bounds__(256) hq_amp_norms(HQ_PROGRAM_PARAMS, const double* x, int n_in,
                                                               double* norms) {
    hq::amp_norms(HQ_PROGRAM_STRUCT, x, n_in, norms);
}
extern "C" __global__ void hq_reduce_rows(const double* rows, int nrows, int ncols, double* out, int accumulate) {
    hq::reduce_rows(rows, nrows, ncols, out, accumulate != 0);
}
