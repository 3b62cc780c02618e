// Gate loops over one amplitude array held in shared memory, run by a group of T threads
// (thread t of the group), shared by the resident path (the array is a whole state) and the
// blocked path (the array is a tile of 2^L amplitudes; `bit`s are then tile-local positions).
//
// Amplitudes are split into re[] and im[] (structure of arrays) so a warp touching pairs
// (j, j + bit) hits at most 2-way bank conflicts for bit = 1 and none for bit >= 32.
// Matrices arrive staged in shared memory as interleaved (re, im) `real`s, row-major.
#pragma once
#include "program.cuh"

namespace hq {

template <typename real>
struct Mat2 {  // a 2x2 complex matrix in registers
    real ar, ai, br, bi, cr, ci, dr, di;
};

template <typename real>
__device__ __forceinline__ Mat2<real> load_mat2(const real* m, bool dagger) {
    // U^dagger = (a* c*; b* d*)
    if (!dagger) return {m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]};
    return {m[0], -m[1], m[4], -m[5], m[2], -m[3], m[6], -m[7]};
}

template <typename real>
__device__ __forceinline__ void mul2(const Mat2<real>& u, real xr, real xi, real yr, real yi, real& pr, real& pi,
                                     real& qr, real& qi) {
    pr = u.ar * xr - u.ai * xi + u.br * yr - u.bi * yi;
    pi = u.ar * xi + u.ai * xr + u.br * yi + u.bi * yr;
    qr = u.cr * xr - u.ci * xi + u.dr * yr - u.di * yi;
    qi = u.cr * xi + u.ci * xr + u.dr * yi + u.di * yr;
}

// The CNOT of a CXU1 op on a pair (j, k = j | target bit): it swaps the pair where the control
// is set, i.e. where `cbit` (the control's bit in this array, 0 if it lies outside) is set in j,
// or everywhere when `cset` (the control lies outside the array and is set for all of it).
__device__ __forceinline__ bool cx_swaps(unsigned j, unsigned cbit, bool cset) { return cset || (j & cbit) != 0; }

// psi <- U psi on `bit` (U1), or U CNOT psi (CXU1: cbit / cset as above), or for dagger the
// inverse: CNOT U^dagger psi.
template <typename real>
__device__ void apply_1q(real* re, real* im, unsigned n, unsigned bit, const real* m, bool dagger, int t, int T,
                         unsigned cbit = 0, bool cset = false) {
    const Mat2<real> u = load_mat2(m, dagger);
    for (unsigned p = t; p < (n >> 1); p += T) {
        const unsigned j = insert_zero(p, bit);
        const bool swap = cx_swaps(j, cbit, cset);
        const unsigned rj = (swap && !dagger) ? j | bit : j, rk = rj ^ bit;  // the CNOT acts first,
        const unsigned wj = (swap && dagger) ? j | bit : j, wk = wj ^ bit;   // or is undone last
        real pr, pi, qr, qi;
        mul2(u, re[rj], im[rj], re[rk], im[rk], pr, pi, qr, qi);
        re[wj] = pr; im[wj] = pi; re[wk] = qr; im[wk] = qi;
    }
}

// psi <- U^dagger psi and lam <- U^dagger lam, accumulating acc[2*(2a+b)] += conj(lam_a) psi_b
// with lam before and psi after the undo (numba_state.undo_1q_with_grad). For a CXU1 op
// (cbit / cset) the pair is the one U acted on, and both states are written back through the
// CNOT.
template <typename real>
__device__ void undo_1q_grad(real* re, real* im, real* lre, real* lim, unsigned n, unsigned bit, const real* m,
                             int t, int T, double acc[8], unsigned cbit = 0, bool cset = false) {
    const Mat2<real> u = load_mat2(m, true);
    real s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (unsigned p = t; p < (n >> 1); p += T) {
        const unsigned j = insert_zero(p, bit), k = j | bit;
        const unsigned wj = cx_swaps(j, cbit, cset) ? k : j, wk = wj ^ bit;  // where the results go
        real pr, pi, qr, qi, lxr = lre[j], lxi = lim[j], lyr = lre[k], lyi = lim[k];
        mul2(u, re[j], im[j], re[k], im[k], pr, pi, qr, qi);
        re[wj] = pr; im[wj] = pi; re[wk] = qr; im[wk] = qi;
        s[0] += lxr * pr + lxi * pi; s[1] += lxr * pi - lxi * pr;
        s[2] += lxr * qr + lxi * qi; s[3] += lxr * qi - lxi * qr;
        s[4] += lyr * pr + lyi * pi; s[5] += lyr * pi - lyi * pr;
        s[6] += lyr * qr + lyi * qi; s[7] += lyr * qi - lyi * qr;
        mul2(u, lxr, lxi, lyr, lyi, pr, pi, qr, qi);
        lre[wj] = pr; lim[wj] = pi; lre[wk] = qr; lim[wk] = qi;
    }
#pragma unroll
    for (int a = 0; a < 8; ++a) acc[a] = (double)s[a];
}

// Element (r, c) of U or U^dagger from a staged 4x4 (interleaved).
template <typename real>
__device__ __forceinline__ void mat4_at(const real* m, int r, int c, bool dagger, real& er, real& ei) {
    if (!dagger) { er = m[2 * (4 * r + c)]; ei = m[2 * (4 * r + c) + 1]; }
    else { er = m[2 * (4 * c + r)]; ei = -m[2 * (4 * c + r) + 1]; }
}

// Frame offsets of the 4 amplitudes of a 2-qubit group: a = 2 * (q0 bit) + (q1 bit).
__device__ __forceinline__ unsigned base_2q(unsigned p, unsigned bit0, unsigned bit1) {
    const unsigned lo = bit0 < bit1 ? bit0 : bit1, hi = bit0 < bit1 ? bit1 : bit0;
    return insert_zero(insert_zero(p, lo), hi);
}

template <typename real>
__device__ __forceinline__ void mul4(const real* m, bool dagger, const real xr[4], const real xi[4], real yr[4],
                                     real yi[4]) {
#pragma unroll
    for (int a = 0; a < 4; ++a) {
        real sr = 0, si = 0;
#pragma unroll
        for (int b = 0; b < 4; ++b) {
            real er, ei;
            mat4_at(m, a, b, dagger, er, ei);
            sr += er * xr[b] - ei * xi[b];
            si += er * xi[b] + ei * xr[b];
        }
        yr[a] = sr; yi[a] = si;
    }
}

template <typename real>
__device__ void apply_2q(real* re, real* im, unsigned n, unsigned bit0, unsigned bit1, const real* m, bool dagger,
                         int t, int T) {
    for (unsigned p = t; p < (n >> 2); p += T) {
        const unsigned base = base_2q(p, bit0, bit1);
        const unsigned idx[4] = {base, base | bit1, base | bit0, base | bit0 | bit1};
        real xr[4], xi[4], yr[4], yi[4];
#pragma unroll
        for (int a = 0; a < 4; ++a) { xr[a] = re[idx[a]]; xi[a] = im[idx[a]]; }
        mul4(m, dagger, xr, xi, yr, yi);
#pragma unroll
        for (int a = 0; a < 4; ++a) { re[idx[a]] = yr[a]; im[idx[a]] = yi[a]; }
    }
}

// The 2-qubit undo with the outer-product accumulation fused: acc[2*(4a+b)] += conj(lam_a) psi_b.
template <typename real>
__device__ void undo_2q_grad(real* re, real* im, real* lre, real* lim, unsigned n, unsigned bit0, unsigned bit1,
                             const real* m, int t, int T, double acc[32]) {
    real s[32];
#pragma unroll
    for (int a = 0; a < 32; ++a) s[a] = 0;
    for (unsigned p = t; p < (n >> 2); p += T) {
        const unsigned base = base_2q(p, bit0, bit1);
        const unsigned idx[4] = {base, base | bit1, base | bit0, base | bit0 | bit1};
        real xr[4], xi[4], yr[4], yi[4], lr[4], li[4];
#pragma unroll
        for (int a = 0; a < 4; ++a) { xr[a] = re[idx[a]]; xi[a] = im[idx[a]]; lr[a] = lre[idx[a]]; li[a] = lim[idx[a]]; }
        mul4(m, true, xr, xi, yr, yi);
#pragma unroll
        for (int a = 0; a < 4; ++a)
#pragma unroll
            for (int b = 0; b < 4; ++b) {
                s[2 * (4 * a + b)] += lr[a] * yr[b] + li[a] * yi[b];
                s[2 * (4 * a + b) + 1] += lr[a] * yi[b] - li[a] * yr[b];
            }
        mul4(m, true, lr, li, xr, xi);
#pragma unroll
        for (int a = 0; a < 4; ++a) {
            re[idx[a]] = yr[a]; im[idx[a]] = yi[a]; lre[idx[a]] = xr[a]; lim[idx[a]] = xi[a];
        }
    }
#pragma unroll
    for (int a = 0; a < 32; ++a) acc[a] = (double)s[a];
}

// CZ: negate where all bits of `mask` are set; `outside_ok` says whether the bits of the CZ that
// lie outside this array (blocked path: outside the tile) are set for this tile.
template <typename real>
__device__ void apply_cz(real* re, real* im, unsigned n, unsigned mask, bool outside_ok, int t, int T) {
    if (!outside_ok) return;
    for (unsigned i = t; i < n; i += T)
        if ((i & mask) == mask) { re[i] = -re[i]; im[i] = -im[i]; }
}

// A dense constant 2^k x 2^k matrix (complex128 in global memory) on k array bits `bits[]`
// (bits[0] is the high bit of the matrix index). Rare (Unitary gates on >= 3 qubits), so the
// 2^k amplitudes live in local memory rather than registers.
template <typename real>
__device__ __noinline__ void apply_uk(real* re, real* im, unsigned n, const unsigned* bits, int k, const double* mat, bool dagger,
                         int t, int T) {
    const int dim = 1 << k;
    unsigned offs[1 << MAX_UK_QUBITS];
    real xr[1 << MAX_UK_QUBITS], xi[1 << MAX_UK_QUBITS];
    unsigned all = 0;
    for (int j = 0; j < k; ++j) all |= bits[j];
    for (int a = 0; a < dim; ++a) {
        unsigned o = 0;
        for (int j = 0; j < k; ++j)
            if (a & (1 << (k - 1 - j))) o |= bits[j];
        offs[a] = o;
    }
    for (unsigned p = t; p < (n >> k); p += T) {
        unsigned base = p;
        for (unsigned bit = 1; bit < n; bit <<= 1)  // insert zeros at the matrix bits, lowest first
            if (all & bit) base = insert_zero(base, bit);
        for (int a = 0; a < dim; ++a) { xr[a] = re[base | offs[a]]; xi[a] = im[base | offs[a]]; }
        for (int a = 0; a < dim; ++a) {
            double sr = 0, si = 0;
            for (int b = 0; b < dim; ++b) {
                const int e = dagger ? (b * dim + a) : (a * dim + b);
                const double er = mat[2 * e], ei = dagger ? -mat[2 * e + 1] : mat[2 * e + 1];
                sr += er * xr[b] - ei * xi[b];
                si += er * xi[b] + ei * xr[b];
            }
            re[base | offs[a]] = (real)sr; im[base | offs[a]] = (real)si;
        }
    }
}

// ---- reductions over a group of T threads (T a multiple of 32, the group warp-aligned) ------
// Every thread of the block must call these (they hold __syncthreads); `red` is block-wide
// scratch of (blockDim / 32) * 32 doubles. Thread 0..NV-1 of each group write the group's
// results to dst. group_sum adds; group_max takes the largest (of values >= 0).
struct AddOp { __device__ double operator()(double a, double b) const { return a + b; } };
struct MaxOp { __device__ double operator()(double a, double b) const { return a > b ? a : b; } };

template <int NV, typename Op>
__device__ void group_reduce(double v[NV], double* red, double* dst, int T, Op op) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int k = 0; k < NV; ++k)
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) v[k] = op(v[k], __shfl_xor_sync(0xffffffffu, v[k], o));
    if (lane == 0)
#pragma unroll
        for (int k = 0; k < NV; ++k) red[warp * 32 + k] = v[k];
    __syncthreads();
    const int t = threadIdx.x % T, first_warp = (threadIdx.x / T) * (T / 32);
    if (t < NV) {
        double s = red[first_warp * 32 + t];
        for (int q = 1; q < T / 32; ++q) s = op(s, red[(first_warp + q) * 32 + t]);
        dst[t] = s;
    }
    __syncthreads();
}

template <int NV>
__device__ void group_sum(double v[NV], double* red, double* dst, int T) { group_reduce<NV>(v, red, dst, T, AddOp{}); }

template <int NV>
__device__ void group_max(double v[NV], double* red, double* dst, int T) { group_reduce<NV>(v, red, dst, T, MaxOp{}); }

// The amplitude block of one sample, x[0..size), scaled by m = max |x_j|: the unit state is
// (x_j / m) / norm and |x| = m * norm with no square overflowing (|x| ~ 1e200) or underflowing
// (~1e-200), as hqsim.ir.validate.unit_amplitudes. dot = sum_j lam[j * stride] x_j / m (Re lam . x / m,
// the input gradient's projection) when lam is given. `dst`: 3 doubles of the group's scratch.
struct AmpScale {
    double m, norm, dot;
};

template <typename real>
__device__ AmpScale amp_scale(const real* x, int size, const real* lam, int stride, double* red, double* dst, int t,
                              int T) {
    double v[2] = {0.0, 0.0};
    for (int j = t; j < size; j += T) v[0] = fmax(v[0], fabs((double)x[j]));
    group_max<1>(v, red, dst, T);
    const double m = dst[0];
    v[0] = 0.0;
    for (int j = t; j < size; j += T) {
        const double u = (double)x[j] / m;
        v[0] += u * u;
        if (lam) v[1] += (double)lam[j * stride] * u;
    }
    group_sum<2>(v, red, dst + 1, T);
    return AmpScale{m, sqrt(dst[1]), dst[2]};
}

// <psi| P_t |psi> for up to 8 terms [t0, t0 + cnt) of the array (sum over this thread's
// elements; i^nY is applied by the caller after the reduction). The array is a whole state
// (resident path): the blocked path reads partners from global memory instead.
template <typename real>
__device__ void term_partials(const Program& p, const real* re, const real* im, unsigned n, int t0, int cnt, int t,
                              int T, double acc[16]) {
    for (int k = 0; k < 16; ++k) acc[k] = 0.0;
    for (unsigned i = t; i < n; i += T) {
        for (int k = 0; k < cnt; ++k) {
            const int* tr = p.terms + (t0 + k) * TERM_FIELDS;
            const unsigned j = i ^ (unsigned)tr[1];
            // conj(psi[j]) psi[i]
            double vr = (double)re[j] * re[i] + (double)im[j] * im[i];
            double vi = (double)re[j] * im[i] - (double)im[j] * re[i];
            if (parity(i & (unsigned)tr[2])) { vr = -vr; vi = -vi; }
            acc[2 * k] += vr;
            acc[2 * k + 1] += vi;
        }
    }
}

// Re(i^nY (vr + i vi)).
__device__ __forceinline__ double phase_real(int ny, double vr, double vi) {
    return ny == 0 ? vr : (ny == 1 ? -vi : (ny == 2 ? -vr : vi));
}

}  // namespace hq
