// Every extern "C" entry point in hqsim_kernels.cu, for the pybind11 extension's launch table
// (csrc/launch.cu) and checked against hqsim/backends/cuda_plan.py's KERNELS by the tests.
#pragma once

#define HQ_FOR_EACH_REAL_KERNEL(X, sfx)                                                           \
    X(hq_forward_resident_##sfx) X(hq_vjp_resident_##sfx) X(hq_init_states_##sfx)                 \
    X(hq_op_matrices_##sfx) X(hq_local_pass_##sfx) X(hq_adjoint_pass_##sfx) X(hq_permute_states_##sfx) \
    X(hq_weighted_observable_##sfx) X(hq_expect_partial_##sfx) X(hq_amp_grad_##sfx)

#define HQ_FOR_EACH_KERNEL(X)                                                                     \
    HQ_FOR_EACH_REAL_KERNEL(X, f32)                                                               \
    HQ_FOR_EACH_REAL_KERNEL(X, f64)                                                               \
    X(hq_chain_pass) X(hq_expect_finish) X(hq_amp_norms) X(hq_reduce_rows)
