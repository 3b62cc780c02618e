// The kernels' real types and every extern "C" entry point of hqsim_kernels.cu: the one list that
// hqsim_kernels.cu instantiates from, the pybind11 extension's and the emulation's launch tables
// (csrc/launch.cuh, csrc/emulate.cpp) are built from, and the tests check against
// hqsim/backends/cuda_plan.py's KERNELS.
#pragma once

// Y(arg, real, suffix) for each real type a run may use: float (complex64 states; float32
// inputs, weights and cotangents) and double (complex128; float64 ones).
#define HQ_FOR_EACH_REAL_TYPE(Y, arg) Y(arg, float, f32) Y(arg, double, f64)

#define HQ_FOR_EACH_REAL_KERNEL(X, sfx)                                                           \
    X(hq_forward_resident_##sfx) X(hq_vjp_resident_##sfx) X(hq_init_states_##sfx)                 \
    X(hq_op_matrices_##sfx) X(hq_local_pass_##sfx) X(hq_adjoint_pass_##sfx) X(hq_permute_states_##sfx) \
    X(hq_weighted_observable_##sfx) X(hq_expect_partial_##sfx) X(hq_amp_grad_##sfx)                \
    X(hq_chain_pass_##sfx) X(hq_amp_norms_##sfx)

#define HQ_REAL_KERNELS_OF_TYPE(X, real, sfx) HQ_FOR_EACH_REAL_KERNEL(X, sfx)

#define HQ_FOR_EACH_KERNEL(X) HQ_FOR_EACH_REAL_TYPE(HQ_REAL_KERNELS_OF_TYPE, X) X(hq_expect_finish) X(hq_reduce_rows)
