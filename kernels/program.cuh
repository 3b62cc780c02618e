// The lowered op program (hqsim/program.py) as the CUDA kernels see it, and the small-matrix
// mathematics shared by every path: factor matrices and generators, op matrices, and the
// chain rule that turns an op's matrix gradient M into angle gradients.
//
// The numeric codes below mirror hqsim/program.py and hqsim/ir/params.py exactly;
// tests/gpu/test_compile_kernels.py parses this file and checks them against Python.
// Written for NVRTC as well as nvcc: no standard-library headers.
#pragma once

namespace hq {

// ---- op-program codes (mirrored from hqsim/program.py) --------------------------------------
constexpr int OP_U1 = 0;
constexpr int OP_U2 = 1;
constexpr int OP_PERM = 2;
constexpr int OP_CZ = 3;
constexpr int OP_UK = 4;
constexpr int OP_CXU1 = 5;  // CNOT(control q1 -> target q0), then a U1 on q0: one pass
constexpr int OP_FIELDS = 6;  // kind, q0, q1, fstart, fcount, mat

constexpr int F_CONST = 0;
constexpr int F_RX = 1;
constexpr int F_RY = 2;
constexpr int F_RZ = 3;
constexpr int F_PHASE = 4;
constexpr int F_CRX = 5;
constexpr int F_CRY = 6;
constexpr int F_CRZ = 7;
constexpr int F_RXX = 8;
constexpr int F_RYY = 9;
constexpr int F_RZZ = 10;
constexpr int F_FIELDS = 5;  // code, source, index, wire, mat

constexpr int SRC_CONST = 0;  // hqsim/ir/params.py: CONST, WEIGHT, INPUT
constexpr int SRC_WEIGHT = 1;
constexpr int SRC_INPUT = 2;

constexpr int TERM_FIELDS = 4;  // obs, flip, sign, nY mod 4 (int32 on the device)
constexpr int MAX_UK_QUBITS = 6;  // dense UK ops keep 2^k amplitudes per thread

// ---- the program's device arrays ------------------------------------------------------------
struct Program {
    const int* ops;           // (n_ops, OP_FIELDS)
    const int* factors;       // (n_f, F_FIELDS)
    const double* fcoef;      // (n_f, 2): scale, offset
    const double* const_mats; // complex128 viewed as interleaved (re, im) doubles
    const unsigned* maps;     // (n_perm, 2, Q + 1): PERM ops as bit maps (see bit_map_source)
    const int* wires;         // UK qubit lists
    const int* terms;         // (n_terms, TERM_FIELDS)
    const double* term_coeff; // (n_terms,)
    int num_qubits, num_ops, num_terms, num_observables, amp_start, amp_size;
};

// The kernel parameter list every entry point starts with, and the struct built from it.
#define HQ_PROGRAM_PARAMS                                                                       \
    const int *ops, const int *factors, const double *fcoef, const double *const_mats,        \
        const unsigned *maps, const int *wires, const int *terms,                               \
        const double *term_coeff, int num_qubits, int num_ops, int num_terms,                  \
        int num_observables, int amp_start, int amp_size
#define HQ_PROGRAM_STRUCT                                                                       \
    hq::Program{ops, factors, fcoef, const_mats, maps, wires, terms, term_coeff,              \
                num_qubits, num_ops, num_terms, num_observables, amp_start, amp_size}

// ---- complex double arithmetic for the small matrices ----------------------------------------
struct cd {
    double re, im;
};
__device__ __forceinline__ cd cmul(cd a, cd b) { return {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re}; }
__device__ __forceinline__ cd cadd(cd a, cd b) { return {a.re + b.re, a.im + b.im}; }
__device__ __forceinline__ cd conjc(cd a) { return {a.re, -a.im}; }

// U1 and CXU1 carry a 2x2 matrix (and its gradient) the same way.
__device__ __forceinline__ bool is_1q(int kind) { return kind == OP_U1 || kind == OP_CXU1; }

__device__ __forceinline__ unsigned insert_zero(unsigned t, unsigned bit) {
    unsigned low = t & (bit - 1u);
    return ((t - low) << 1) | low;
}
__device__ __forceinline__ int parity(unsigned x) { return __popc(x) & 1; }

// A PERM op gathers psi'[i] = psi[src(i)] with src an affine map of the index bits over GF(2)
// (hqsim/backends/cuda_bitmaps.py): bit r of src(i) is parity(rows[r] & i) ^ bit r of c.
// Op i's map is p.maps + (2 * op[3] + dagger) * (Q + 1): rows[0..Q-1], then c.
__device__ __forceinline__ const unsigned* bit_map(const Program& p, int map, bool dagger) {
    return p.maps + (2 * (long long)map + (dagger ? 1 : 0)) * (p.num_qubits + 1);
}
__device__ __forceinline__ unsigned bit_map_source(const unsigned* rows, unsigned c, int nbits, unsigned i) {
    unsigned s = c;
    for (int r = 0; r < nbits; ++r) s ^= (unsigned)parity(rows[r] & i) << r;
    return s;
}

// The angle of factor f for one sample: scale * value + offset. Inputs and weights arrive in the
// run's real type (float for complex64 runs, read where the caller's tensors live); the angle,
// its sine and cosine and every small matrix are formed in double from the value as given.
template <typename real>
__device__ __forceinline__ double factor_angle(const Program& p, int f, const real* xb, const real* w) {
    const int* fr = p.factors + f * F_FIELDS;
    double v = 0.0;
    if (fr[1] == SRC_WEIGHT) v = (double)w[fr[2]];
    else if (fr[1] == SRC_INPUT) v = (double)xb[fr[2]];
    return p.fcoef[2 * f] * v + p.fcoef[2 * f + 1];
}

__device__ __forceinline__ int axis_of(int code) {
    if (code == F_RX || code == F_CRX || code == F_RXX) return 1;
    if (code == F_RY || code == F_CRY || code == F_RYY) return 2;
    return 3;
}

// 2x2 Pauli X (1), Y (2), Z (3), row-major.
__device__ __forceinline__ void pauli2(int axis, cd m[4]) {
    m[0] = m[1] = m[2] = m[3] = cd{0.0, 0.0};
    if (axis == 1) { m[1] = cd{1, 0}; m[2] = cd{1, 0}; }
    else if (axis == 2) { m[1] = cd{0, -1}; m[2] = cd{0, 1}; }
    else { m[0] = cd{1, 0}; m[3] = cd{-1, 0}; }
}

// Embed a 2x2 block into the U2 frame (q0 high bit, q1 low bit); mirrors numba_kernels._embed.
__device__ inline void embed(const cd m2[4], int wire, bool controlled, bool generator, cd out[16]) {
    for (int a = 0; a < 16; ++a) out[a] = cd{0.0, 0.0};
    if (controlled) {  // control q0 (wire 2) or q1 (wire 3); |0> block: identity or 0
        for (int c = 0; c < 2; ++c)
            for (int t = 0; t < 2; ++t)
                for (int u = 0; u < 2; ++u) {
                    cd v = c == 1 ? m2[2 * t + u] : cd{(!generator && t == u) ? 1.0 : 0.0, 0.0};
                    if (wire == 2) out[(2 * c + t) * 4 + 2 * c + u] = v;
                    else out[(2 * t + c) * 4 + 2 * u + c] = v;
                }
        return;
    }
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b)
            for (int t = 0; t < 2; ++t) {
                if (wire == 0) out[(2 * a + t) * 4 + 2 * b + t] = m2[2 * a + b];
                else out[(2 * t + a) * 4 + 2 * t + b] = m2[2 * a + b];
            }
}

// out (D x D, row-major) = the factor's matrix for one sample. D = 2 (U1) or 4 (U2 frame).
template <int D, typename real>
__device__ void factor_matrix(const Program& p, int f, const real* xb, const real* w, cd out[D * D]) {
    const int* fr = p.factors + f * F_FIELDS;
    const int code = fr[0];
    if (code == F_CONST) {
        const double* m = p.const_mats + 2 * fr[4];
        for (int a = 0; a < D * D; ++a) out[a] = cd{m[2 * a], m[2 * a + 1]};
        return;
    }
    const double th = factor_angle(p, f, xb, w);
    double s, c;
    sincos(0.5 * th, &s, &c);
    cd m2[4];
    if (code >= F_RXX) {  // exp(-i a P(x)P / 2) = c I - i s P(x)P
        if (D == 4) {
            pauli2(axis_of(code), m2);
            for (int a = 0; a < 4; ++a)
                for (int b = 0; b < 4; ++b) {
                    cd pp = cmul(m2[2 * (a >> 1) + (b >> 1)], m2[2 * (a & 1) + (b & 1)]);
                    out[a * D + b] = cd{(a == b ? c : 0.0) + s * pp.im, -s * pp.re};
                }
        }
        return;
    }
    if (code == F_PHASE) {
        double s2, c2;
        sincos(th, &s2, &c2);
        m2[0] = cd{1, 0}; m2[1] = cd{0, 0}; m2[2] = cd{0, 0}; m2[3] = cd{c2, s2};
    } else {
        pauli2(axis_of(code), m2);
        for (int a = 0; a < 4; ++a) m2[a] = cd{((a == 0 || a == 3) ? c : 0.0) + s * m2[a].im, -s * m2[a].re};
    }
    if (D == 2) {
        for (int a = 0; a < 4; ++a) out[a] = m2[a];
    } else {
        embed(m2, fr[3], code >= F_CRX, false, out);
    }
}

// out = G with dF/da = -i/2 G F (zero for constant factors); mirrors factor_generator.
template <int D>
__device__ void factor_generator(const Program& p, int f, cd out[D * D]) {
    const int code = p.factors[f * F_FIELDS];
    for (int a = 0; a < D * D; ++a) out[a] = cd{0.0, 0.0};
    if (code == F_CONST) return;
    cd m2[4];
    if (code >= F_RXX) {
        if (D == 4) {
            pauli2(axis_of(code), m2);
            for (int a = 0; a < 4; ++a)
                for (int b = 0; b < 4; ++b) out[a * D + b] = cmul(m2[2 * (a >> 1) + (b >> 1)], m2[2 * (a & 1) + (b & 1)]);
        }
        return;
    }
    if (code == F_PHASE) {
        m2[0] = m2[1] = m2[2] = cd{0, 0};
        m2[3] = cd{-2.0, 0.0};
    } else {
        pauli2(axis_of(code), m2);
    }
    if (D == 2) {
        for (int a = 0; a < 4; ++a) out[a] = m2[a];
    } else {
        embed(m2, p.factors[f * F_FIELDS + 3], code >= F_CRX, true, out);
    }
}

template <int D>
__device__ __forceinline__ void matmul(const cd* a, const cd* b, cd* out) {
    for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) {
            cd acc{0.0, 0.0};
            for (int k = 0; k < D; ++k) acc = cadd(acc, cmul(a[i * D + k], b[k * D + j]));
            out[i * D + j] = acc;
        }
}

// u = F[n-1] ... F[0] for op i (factor 0 acts first).
template <int D, typename real>
__device__ void op_matrix(const Program& p, int i, const real* xb, const real* w, cd u[D * D]) {
    const int fs = p.ops[i * OP_FIELDS + 3], fc = p.ops[i * OP_FIELDS + 4];
    cd fm[D * D], tmp[D * D];
    for (int a = 0; a < D * D; ++a) u[a] = cd{(a % (D + 1) == 0) ? 1.0 : 0.0, 0.0};
    for (int f = fs; f < fs + fc; ++f) {
        factor_matrix<D>(p, f, xb, w, fm);
        matmul<D>(fm, u, tmp);
        for (int a = 0; a < D * D; ++a) u[a] = tmp[a];
    }
}

// Angle gradients of op i's factors from its matrix gradient M (M_ab = sum conj(lam_a) psi_b).
// With U = A_k C_k, C_k = F_k..F_0 and A_k = U C_k^dagger (the factors are unitary), the
// Numba formula Im tr(C_k M^T A_k G_k) becomes Im tr(C_k X C_k^dagger G_k) with X = M^T U:
// one running product instead of stored prefix and suffix arrays, so a thread needs O(1)
// matrices whatever the number of fused factors. Results are added (atomically: other ops of
// the same sample may share a weight or input) to dw_row and dx_row.
template <int D, typename real>
__device__ __noinline__ void chain_grads(const Program& p, int i, const real* xb, const real* w, const double* mflat,
                            double* dw_row, double* dx_row, bool need_x) {
    const int fs = p.ops[i * OP_FIELDS + 3], fc = p.ops[i * OP_FIELDS + 4];
    cd u[D * D], x[D * D], cm[D * D], fm[D * D], t1[D * D], t2[D * D], g[D * D];
    op_matrix<D>(p, i, xb, w, u);
    for (int a = 0; a < D; ++a)  // X = M^T U
        for (int b = 0; b < D; ++b) {
            cd acc{0.0, 0.0};
            for (int c = 0; c < D; ++c) acc = cadd(acc, cmul(cd{mflat[2 * (c * D + a)], mflat[2 * (c * D + a) + 1]}, u[c * D + b]));
            x[a * D + b] = acc;
        }
    for (int a = 0; a < D * D; ++a) cm[a] = cd{(a % (D + 1) == 0) ? 1.0 : 0.0, 0.0};
    for (int k = 0; k < fc; ++k) {
        const int f = fs + k;
        factor_matrix<D>(p, f, xb, w, fm);
        matmul<D>(fm, cm, t1);
        for (int a = 0; a < D * D; ++a) cm[a] = t1[a];
        const int src = p.factors[f * F_FIELDS + 1];
        if (!(src == SRC_WEIGHT || (src == SRC_INPUT && need_x))) continue;
        matmul<D>(cm, x, t1);  // T = C X C^dagger
        for (int a = 0; a < D; ++a)
            for (int b = 0; b < D; ++b) {
                cd acc{0.0, 0.0};
                for (int c = 0; c < D; ++c) acc = cadd(acc, cmul(t1[a * D + c], conjc(cm[b * D + c])));
                t2[a * D + b] = acc;
            }
        factor_generator<D>(p, f, g);
        double tr_im = 0.0;
        for (int a = 0; a < D; ++a)
            for (int b = 0; b < D; ++b) tr_im += cmul(t2[a * D + b], g[b * D + a]).im;
        const double grad = tr_im * p.fcoef[2 * f];
        const int idx = p.factors[f * F_FIELDS + 2];
        if (src == SRC_WEIGHT) atomicAdd(dw_row + idx, grad);
        else atomicAdd(dx_row + idx, grad);
    }
}

}  // namespace hq
