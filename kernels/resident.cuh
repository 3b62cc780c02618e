// The resident path: a group of T threads owns one sample's whole state in shared memory
// (S = blockDim / T samples per block, so small Q still fills a block), applies the whole op
// program, and reduces the observables in-kernel: one read of the inputs, one write of the
// outputs, no state traffic to device memory at all.
//
// The backward keeps psi and lambda resident: recompute psi, lambda = O_g psi, then sweep the
// ops in reverse (see hqsim/backends/numba_kernels.py for the mathematics). Each U1/U2 op's
// matrix gradient M is reduced over the group into shared memory; after every window of WIN ops
// one thread per op turns its M into angle gradients (chain_grads), in parallel. Weight
// gradients go into a row private to the block (blocks loop over sample groups, so a row
// collects many samples); a separate kernel sums the rows. Input gradients go straight into the
// sample's row of dx.
//
// Shared memory (must match hqsim/backends/cuda_plan.py resident_smem_bytes):
//   red   (blockDim/32)*32 doubles | misc S*16 doubles | mred S*WIN*32 doubles (backward only)
//   mats  S*WIN*32 reals          | states S*nst*2*2^Q reals (psi re, psi im[, lam re, lam im])
#pragma once
#include "state_ops.cuh"

namespace hq {

constexpr int WIN = 16;       // op matrices staged per window
constexpr int MAT_SLOT = 32;  // reals per staged matrix (4x4 complex)
constexpr int MAXR = 16;      // amplitudes per thread held in registers by a permutation
constexpr int MAX_RESIDENT_THREADS = 512;  // __launch_bounds__ of the resident kernels

// The block's dynamic shared memory (kernels/host_shim.h gives it another definition).
#ifndef HQ_DYNAMIC_SHARED
#define HQ_DYNAMIC_SHARED(name) extern __shared__ __align__(16) unsigned char name[]
#endif
HQ_DYNAMIC_SHARED(hq_smem);

// Op i's matrix for one sample into a staging slot of MAT_SLOT reals (interleaved complex,
// row-major; zeros for ops without one). Not inlined: the complex-double matrix code would
// otherwise crowd the gate loops' registers.
template <typename real>
__device__ __noinline__ void op_matrix_slot(const Program& p, int i, const real* xb, const real* w, real* slot) {
    const int kind = p.ops[i * OP_FIELDS];
    if (is_1q(kind)) {
        cd u[4];
        op_matrix<2>(p, i, xb, w, u);
        for (int a = 0; a < 4; ++a) { slot[2 * a] = (real)u[a].re; slot[2 * a + 1] = (real)u[a].im; }
    } else if (kind == OP_U2) {
        cd u[16];
        op_matrix<4>(p, i, xb, w, u);
        for (int a = 0; a < 16; ++a) { slot[2 * a] = (real)u[a].re; slot[2 * a + 1] = (real)u[a].im; }
    } else {
        for (int a = 0; a < MAT_SLOT; ++a) slot[a] = 0;
    }
}

// Thread t < WIN of the group computes the matrix of op w0 + t for its sample.
template <typename real>
__device__ void stage_mats(const Program& p, int w0, int w1, const real* xb, const real* w, real* mats, int t) {
    if (t < WIN && w0 + t < w1) op_matrix_slot(p, w0 + t, xb, w, mats + t * MAT_SLOT);
}

// psi'[i] = psi[src(i)] through registers (T >= n / MAXR is a launch precondition), src(i) =
// bit_map_source(rows, c, nbits, i): a PERM op's map on the whole state (resident path) or on a
// tile in tile-local bits (blocked path).
template <typename real>
__device__ void permute_regs(real* re, real* im, const unsigned* rows, unsigned c, int nbits, unsigned n, int t,
                             int T) {
    real vr[MAXR], vi[MAXR];
#pragma unroll
    for (int m = 0; m < MAXR; ++m) {
        const unsigned i = t + m * T;
        if (i < n) { const unsigned s = bit_map_source(rows, c, nbits, i); vr[m] = re[s]; vi[m] = im[s]; }
    }
    __syncthreads();
#pragma unroll
    for (int m = 0; m < MAXR; ++m) {
        const unsigned i = t + m * T;
        if (i < n) { re[i] = vr[m]; im[i] = vi[m]; }
    }
}

__device__ __forceinline__ unsigned qbit(const Program& p, int q) { return 1u << (p.num_qubits - 1 - q); }

// Ops without gradients (PERM, CZ, UK) and the forward U1/CXU1/U2: block-uniform branch on the kind.
template <typename real>
__device__ void apply_op(const Program& p, int i, const real* m, real* re, real* im, unsigned n, bool dagger, int t,
                         int T) {
    const int* op = p.ops + i * OP_FIELDS;
    const int kind = op[0];
    if (is_1q(kind)) {
        apply_1q(re, im, n, qbit(p, op[1]), m, dagger, t, T, kind == OP_CXU1 ? qbit(p, op[2]) : 0u);
    } else if (kind == OP_U2) {
        apply_2q(re, im, n, qbit(p, op[1]), qbit(p, op[2]), m, dagger, t, T);
    } else if (kind == OP_PERM) {
        const unsigned* rows = bit_map(p, op[3], dagger);
        permute_regs(re, im, rows, rows[p.num_qubits], p.num_qubits, n, t, T);
    } else if (kind == OP_CZ) {
        apply_cz(re, im, n, qbit(p, op[1]) | qbit(p, op[2]), true, t, T);
    } else if (kind == OP_UK) {
        unsigned bits[MAX_UK_QUBITS];
        for (int j = 0; j < op[4]; ++j) bits[j] = qbit(p, p.wires[op[3] + j]);
        apply_uk(re, im, n, bits, op[4], p.const_mats + 2 * op[5], dagger, t, T);
    }
}

template <typename real>
__device__ void init_state(const Program& p, const real* xb, real* re, real* im, unsigned n, double* misc,
                           double* red, int t, int T) {
    for (unsigned i = t; i < n; i += T) { re[i] = 0; im[i] = 0; }
    if (p.amp_size == 0) {
        if (t == 0) re[0] = 1;
        __syncthreads();
        return;
    }
    const AmpScale a = amp_scale(xb + p.amp_start, p.amp_size, (const real*)nullptr, 0, red, misc, t, T);
    for (int j = t; j < p.amp_size; j += T) re[j] = (real)((double)xb[p.amp_start + j] / a.m / a.norm);
    __syncthreads();
}

template <typename real>
__device__ void run_forward(const Program& p, const real* xb, const real* w, real* mats, real* re, real* im,
                            unsigned n, int t, int T) {
    for (int w0 = 0; w0 < p.num_ops; w0 += WIN) {
        const int w1 = min(p.num_ops, w0 + WIN);
        stage_mats(p, w0, w1, xb, w, mats, t);
        __syncthreads();
        for (int i = w0; i < w1; ++i) {
            apply_op(p, i, mats + (i - w0) * MAT_SLOT, re, im, n, false, t, T);
            __syncthreads();
        }
    }
}

// out[b, :] = sum_t coeff_t Re(i^nY <psi|flip/sign|psi>), 8 terms per reduction.
template <typename real>
__device__ void reduce_observables(const Program& p, const real* re, const real* im, unsigned n, double* out_row,
                                   bool active, double* misc, double* red, int t, int T) {
    if (active && t == 0)
        for (int o = 0; o < p.num_observables; ++o) out_row[o] = 0.0;
    for (int t0 = 0; t0 < p.num_terms; t0 += 8) {
        const int cnt = min(8, p.num_terms - t0);
        double acc[16];
        term_partials(p, re, im, n, t0, cnt, t, T, acc);
        group_sum<16>(acc, red, misc, T);
        if (active && t == 0)
            for (int k = 0; k < cnt; ++k) {
                const int* tr = p.terms + (t0 + k) * TERM_FIELDS;
                out_row[tr[0]] += p.term_coeff[t0 + k] * phase_real(tr[3], misc[2 * k], misc[2 * k + 1]);
            }
        __syncthreads();  // redundant today (covered: the next group_sum's first barrier precedes any write of misc)
    }
}

// lam = sum_t cot[obs_t] coeff_t P_t psi, gathered: (P psi)[i] = i^nY (-1)^par(j & sign) psi[j], j = i ^ flip.
template <typename real>
__device__ void weighted_observable(const Program& p, const real* cot_row, const real* re, const real* im,
                                    real* lre, real* lim, unsigned n, int t, int T) {
    for (unsigned i = t; i < n; i += T) {
        double lr = 0.0, li = 0.0;
        for (int k = 0; k < p.num_terms; ++k) {
            const int* tr = p.terms + k * TERM_FIELDS;
            const double c = cot_row[tr[0]] * p.term_coeff[k];
            if (c == 0.0) continue;
            const unsigned j = i ^ (unsigned)tr[1];
            double vr = c * re[j], vi = c * im[j];
            if (parity(j & (unsigned)tr[2])) { vr = -vr; vi = -vi; }
            const int ny = tr[3];
            if (ny == 1) { const double q = vr; vr = -vi; vi = q; }
            else if (ny == 2) { vr = -vr; vi = -vi; }
            else if (ny == 3) { const double q = vr; vr = vi; vi = -q; }
            lr += vr; li += vi;
        }
        lre[i] = (real)lr; lim[i] = (real)li;
    }
    __syncthreads();  // redundant today (covered: every caller reaches a barrier before reading lam across threads)
}

struct ResidentLayout {
    double *red, *misc, *mred;
    unsigned char* reals;
};

__device__ inline ResidentLayout carve(int S, bool backward) {
    ResidentLayout L;
    L.red = reinterpret_cast<double*>(hq_smem);
    L.misc = L.red + blockDim.x;
    L.mred = L.misc + S * 16;
    L.reals = reinterpret_cast<unsigned char*>(L.mred + (backward ? S * WIN * MAT_SLOT : 0));
    return L;
}

template <typename real>
__device__ void forward_resident(const Program& p, const real* x, const real* w, int batch, int n_in,
                                 double* out, real* states, bool want_states, int S, int T) {
    const unsigned n = 1u << p.num_qubits;
    const int g = threadIdx.x / T, t = threadIdx.x % T;
    ResidentLayout L = carve(S, false);
    double* misc = L.misc + g * 16;
    real* mats = reinterpret_cast<real*>(L.reals) + g * WIN * MAT_SLOT;
    real* re = reinterpret_cast<real*>(L.reals) + S * WIN * MAT_SLOT + (long long)g * 2 * n;
    real* im = re + n;
    const int nsb = (batch + S - 1) / S;
    for (int sb = blockIdx.x; sb < nsb; sb += gridDim.x) {
        const int b = sb * S + g;
        const bool active = b < batch;  // tail groups run along (block-wide barriers) but write nothing
        const real* xb = x + (long long)(active ? b : batch - 1) * n_in;
        init_state(p, xb, re, im, n, misc, L.red, t, T);
        run_forward(p, xb, w, mats, re, im, n, t, T);
        reduce_observables(p, re, im, n, out + (long long)b * p.num_observables, active, misc, L.red, t, T);
        if (want_states && active)
            for (unsigned i = t; i < n; i += T) {
                states[2 * ((long long)b * n + i)] = re[i];
                states[2 * ((long long)b * n + i) + 1] = im[i];
            }
        __syncthreads();  // redundant today (covered: the next sample's writes of the state come after barriers)
    }
}

// One reverse window: undo ops [w0, w1) on psi and lam, reducing each U1/CXU1/U2's M into mred.
template <typename real>
__device__ void reverse_window(const Program& p, int w0, int w1, const real* mats, real* re, real* im, real* lre,
                               real* lim, unsigned n, double* mred, double* red, int t, int T) {
    for (int i = w1 - 1; i >= w0; --i) {
        const int* op = p.ops + i * OP_FIELDS;
        const real* m = mats + (i - w0) * MAT_SLOT;
        if (is_1q(op[0])) {
            double acc[8];
            undo_1q_grad(re, im, lre, lim, n, qbit(p, op[1]), m, t, T, acc, op[0] == OP_CXU1 ? qbit(p, op[2]) : 0u);
            group_sum<8>(acc, red, mred + (i - w0) * MAT_SLOT, T);
        } else if (op[0] == OP_U2) {
            double acc[32];
            undo_2q_grad(re, im, lre, lim, n, qbit(p, op[1]), qbit(p, op[2]), m, t, T, acc);
            group_sum<32>(acc, red, mred + (i - w0) * MAT_SLOT, T);
        } else {
            apply_op(p, i, m, re, im, n, true, t, T);
            __syncthreads();  // redundant today (covered: psi and lam are separate arrays; apply_op syncs inside where needed)
            apply_op(p, i, m, lre, lim, n, true, t, T);
        }
        __syncthreads();
    }
}

template <typename real>
__device__ void vjp_resident(const Program& p, const real* x, const real* w, const real* cot, int batch,
                             int n_in, int n_w, double* dw_part, double* dx, bool need_x, int S, int T) {
    const unsigned n = 1u << p.num_qubits;
    const int g = threadIdx.x / T, t = threadIdx.x % T;
    ResidentLayout L = carve(S, true);
    double* misc = L.misc + g * 16;
    double* mred = L.mred + g * WIN * MAT_SLOT;
    real* mats = reinterpret_cast<real*>(L.reals) + g * WIN * MAT_SLOT;
    real* re = reinterpret_cast<real*>(L.reals) + S * WIN * MAT_SLOT + (long long)g * 4 * n;
    real *im = re + n, *lre = re + 2 * n, *lim = re + 3 * n;
    double* dw_row = dw_part + (long long)blockIdx.x * n_w;
    for (int k = threadIdx.x; k < n_w; k += blockDim.x) dw_row[k] = 0.0;
    const int nsb = (batch + S - 1) / S;
    for (int sb = blockIdx.x; sb < nsb; sb += gridDim.x) {
        const int b = sb * S + g;
        const bool active = b < batch;
        const int bb = active ? b : batch - 1;
        const real* xb = x + (long long)bb * n_in;
        double* dx_row = dx + (long long)bb * n_in;
        if (active && need_x)
            for (int k = t; k < n_in; k += T) dx_row[k] = 0.0;
        init_state(p, xb, re, im, n, misc, L.red, t, T);
        run_forward(p, xb, w, mats, re, im, n, t, T);
        weighted_observable(p, cot + (long long)bb * p.num_observables, re, im, lre, lim, n, t, T);
        for (int w1 = p.num_ops; w1 > 0; w1 -= WIN) {
            const int w0 = max(0, w1 - WIN);
            stage_mats(p, w0, w1, xb, w, mats, t);
            __syncthreads();
            reverse_window(p, w0, w1, mats, re, im, lre, lim, n, mred, L.red, t, T);
            if (active && t < w1 - w0) {
                const int i = w0 + t, kind = p.ops[i * OP_FIELDS];
                if (is_1q(kind)) chain_grads<2>(p, i, xb, w, mred + t * MAT_SLOT, dw_row, dx_row, need_x);
                else if (kind == OP_U2) chain_grads<4>(p, i, xb, w, mred + t * MAT_SLOT, dw_row, dx_row, need_x);
            }
            __syncthreads();  // redundant today (covered: mred is next written after the next window's barriers)
        }
        if (p.amp_size > 0 && need_x) {  // through psi_0 = x / |x|
            const AmpScale a = amp_scale(xb + p.amp_start, p.amp_size, lre, 1, L.red, misc, t, T);
            const double proj = 2.0 * a.dot / a.norm, nrm = a.m * a.norm;
            if (active)
                for (int j = t; j < p.amp_size; j += T)
                    dx_row[p.amp_start + j] += (2.0 * lre[j] - (double)xb[p.amp_start + j] / a.m / a.norm * proj) / nrm;
            __syncthreads();  // redundant today (covered: the next sample's writes come after barriers)
        }
    }
}

}  // namespace hq
