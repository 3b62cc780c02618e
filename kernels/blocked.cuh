// The blocked path, for states that do not fit in shared memory: states live in device memory
// as interleaved complex (B, 2^Q), and the op program is cut (on the host, hqsim/backends/
// cuda_plan.py) into passes:
//   - a local pass runs a contiguous run of U1/CXU1/U2/CZ/UK ops [i0, i1) on tiles of 2^L
//     amplitudes: the tile's bits are the set `tmask` (the low F bits, contiguous, for
//     coalesced 32-amplitude runs, plus the bits the pass's gates act on), one block per
//     (tile, sample), gates applied to the tile in shared memory. Choosing the tile's bits per
//     pass is the qubit remapping: no separate swap pass is needed. CZ is diagonal, so its bits
//     outside the tile are read off the tile's base index and never force a new pass; a
//     CXU1's control outside the tile likewise only says whether the tile's pairs swap. A PERM
//     op is a bit map (program.cuh bit_map_source); the planner gives a pass only maps that move
//     bits of its tile (a wider map is split into such factors), so it too runs in the tile,
//     its bits outside the tile again fixed by the tile's base.
//   - the fallback for a map no split fits: one gather pass psi'[i] = psi[src(i)] (out of place).
// The op program a blocked run sees is the plan's (cuda_plan.BlockedPlan.ops and its maps).
// The backward runs the passes in reverse on psi and lambda; a local pass writes each U1/U2
// (CXU1) op's per-tile M partial sums to `mpart`, and chain_pass sums them over tiles and applies the
// chain rule, one block per sample.
#pragma once
#include "resident.cuh"

namespace hq {

constexpr int MAP_ROWS = 64;  // shared words of a tile's PERM map: a row per tile bit, then their constants

// Tile geometry of one (tile, sample) block: tile element j lives at global index
// base | (j & low) | hi_tab[j >> F]. map_rows: shared scratch for a PERM op's map in tile bits.
struct Tile {
    unsigned base, tmask, low;
    int F, L;
    const unsigned* hi_tab;
    unsigned* map_rows;  // MAP_ROWS words: rows, then each row's constant bit
};

__device__ __forceinline__ unsigned tile_index(const Tile& tl, unsigned j) {
    return tl.base | (j & tl.low) | tl.hi_tab[j >> tl.F];
}

// Position of global bit `gbit` inside the tile (gbit must be in tmask).
__device__ __forceinline__ unsigned local_bit(unsigned tmask, unsigned gbit) {
    return 1u << __popc(tmask & (gbit - 1u));
}

__device__ inline Tile make_tile(unsigned tmask, int L, unsigned n, unsigned tile_id, unsigned* hi_tab) {
    Tile tl;
    tl.tmask = tmask;
    tl.F = __ffs(~tmask) - 1;
    tl.low = (1u << tl.F) - 1u;
    unsigned base = 0, rest = tile_id;
    for (unsigned bit = 1; bit < n; bit <<= 1)  // deposit tile_id into the bits outside the tile
        if (!(tmask & bit)) { if (rest & 1u) base |= bit; rest >>= 1; }
    tl.base = base;
    const unsigned nhi = 1u << (L - tl.F);
    for (unsigned h = threadIdx.x; h < nhi; h += blockDim.x) {
        unsigned v = 0, r = h;
        for (unsigned bit = 1u << tl.F; bit < n && r; bit <<= 1)
            if (tmask & bit) { if (r & 1u) v |= bit; r >>= 1; }
        hi_tab[h] = v;
    }
    tl.hi_tab = hi_tab;
    tl.L = L;
    tl.map_rows = hi_tab + nhi;
    __syncthreads();
    return tl;
}

// A PERM op's bit map in tile-local bits: the planner gives a local pass only maps that move
// bits of the tile, so src(i) stays in the tile; tile bit l of the source is
// parity(lrow[l] & j) ^ (rows[g] & outside bits & base parity) ^ c_g, g being tile bit l's global bit.
__device__ __forceinline__ unsigned compress_bits(unsigned v, unsigned mask) {
    unsigned out = 0;
    for (int k = 0; mask; ++k, mask &= mask - 1u)
        if (v & mask & (0u - mask)) out |= 1u << k;
    return out;
}

__device__ inline unsigned tile_bit_map(const Program& p, const int* op, const Tile& tl, bool dagger) {
    const unsigned* rows = bit_map(p, op[3], dagger);
    const unsigned c = rows[p.num_qubits];
    if (threadIdx.x < (unsigned)tl.L) {
        unsigned mask = tl.tmask;
        for (unsigned k = 0; k < threadIdx.x; ++k) mask &= mask - 1u;
        const int g = __ffs(mask) - 1;  // global bit of tile bit threadIdx.x
        const unsigned r = rows[g];
        tl.map_rows[threadIdx.x] = compress_bits(r, tl.tmask);
        tl.map_rows[MAP_ROWS / 2 + threadIdx.x] = (unsigned)parity(r & ~tl.tmask & tl.base) ^ ((c >> g) & 1u);
    }
    __syncthreads();
    unsigned lc = 0;
    for (int l = 0; l < tl.L; ++l) lc |= tl.map_rows[MAP_ROWS / 2 + l] << l;
    return lc;
}

// A CXU1 op's control: its tile bit when it lies inside the tile, else whether it is set for
// the whole tile (read off the tile's base index, as for CZ): so the op needs only its target
// inside the tile.
__device__ inline void cx_control(const Program& p, const int* op, const Tile& tl, unsigned& cbit, bool& cset) {
    cbit = 0;
    cset = false;
    if (op[0] != OP_CXU1) return;
    const unsigned g = qbit(p, op[2]);
    if (tl.tmask & g) cbit = local_bit(tl.tmask, g);
    else cset = (tl.base & g) != 0;
}

// An op of a local pass applied to the tile (bits remapped to tile positions).
template <typename real>
__device__ void apply_local_op(const Program& p, int i, const real* m, real* re, real* im, unsigned nt, const Tile& tl,
                               bool dagger) {
    const int* op = p.ops + i * OP_FIELDS;
    const int t = threadIdx.x, T = blockDim.x;
    if (is_1q(op[0])) {
        unsigned cbit;
        bool cset;
        cx_control(p, op, tl, cbit, cset);
        apply_1q(re, im, nt, local_bit(tl.tmask, qbit(p, op[1])), m, dagger, t, T, cbit, cset);
    } else if (op[0] == OP_U2) {
        apply_2q(re, im, nt, local_bit(tl.tmask, qbit(p, op[1])), local_bit(tl.tmask, qbit(p, op[2])), m, dagger, t, T);
    } else if (op[0] == OP_CZ) {
        const unsigned both = qbit(p, op[1]) | qbit(p, op[2]), in = both & tl.tmask, out = both & ~tl.tmask;
        unsigned lm = 0;
        for (unsigned bit = 1; bit <= in && bit; bit <<= 1)
            if (in & bit) lm |= local_bit(tl.tmask, bit);
        apply_cz(re, im, nt, lm, (tl.base & out) == out, t, T);
    } else if (op[0] == OP_UK) {
        unsigned bits[MAX_UK_QUBITS];
        for (int j = 0; j < op[4]; ++j) bits[j] = local_bit(tl.tmask, qbit(p, p.wires[op[3] + j]));
        apply_uk(re, im, nt, bits, op[4], p.const_mats + 2 * op[5], dagger, t, T);
    } else if (op[0] == OP_PERM) {
        const unsigned lc = tile_bit_map(p, op, tl, dagger);
        permute_regs(re, im, tl.map_rows, lc, tl.L, nt, t, T);
    }
}

// Shared memory of a local pass: red (blockDim doubles) | mats WIN*32 reals |
// tile 2 (or 4, backward) * 2^L reals | hi_tab 2^(L-F) unsigned | map_rows 64 unsigned.
template <typename real>
__device__ void load_tile(const real* g, real* re, real* im, unsigned nt, const Tile& tl) {
    for (unsigned j = threadIdx.x; j < nt; j += blockDim.x) {
        const unsigned long long gi = 2ull * tile_index(tl, j);
        re[j] = g[gi]; im[j] = g[gi + 1];
    }
}
template <typename real>
__device__ void store_tile(real* g, const real* re, const real* im, unsigned nt, const Tile& tl) {
    for (unsigned j = threadIdx.x; j < nt; j += blockDim.x) {
        const unsigned long long gi = 2ull * tile_index(tl, j);
        g[gi] = re[j]; g[gi + 1] = im[j];
    }
}

// The op matrices of every sample, computed once per sample by op_matrices (one thread per
// (sample, op)) rather than by each of a sample's (tile, sample) blocks: a block copies the
// window [w0, w1) of its sample's row into shared memory.
template <typename real>
__device__ void op_matrices(const Program& p, const real* x, const real* w, int n_in, int batch, real* op_mats) {
    const long long total = (long long)batch * p.num_ops;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total; e += (long long)gridDim.x * blockDim.x)
        op_matrix_slot(p, (int)(e % p.num_ops), x + (e / p.num_ops) * n_in, w, op_mats + e * MAT_SLOT);
}

template <typename real>
__device__ void load_mats(const Program& p, const real* op_mats, int b, int w0, int w1, real* mats) {
    const real* src = op_mats + ((long long)b * p.num_ops + w0) * MAT_SLOT;
    for (int c = threadIdx.x; c < (w1 - w0) * MAT_SLOT; c += blockDim.x) mats[c] = src[c];
}

template <typename real>
__device__ void local_pass(const Program& p, const real* op_mats, real* psi, int i0, int i1, unsigned tmask, int L) {
    const unsigned n = 1u << p.num_qubits, nt = 1u << L;
    const int b = blockIdx.y;
    real* mats = reinterpret_cast<real*>(hq_smem + 8 * blockDim.x);
    real* re = mats + WIN * MAT_SLOT;
    real* im = re + nt;
    Tile tl = make_tile(tmask, L, n, blockIdx.x, reinterpret_cast<unsigned*>(im + nt));
    real* g = psi + 2ull * n * b;
    load_tile(g, re, im, nt, tl);
    for (int w0 = i0; w0 < i1; w0 += WIN) {
        const int w1 = min(i1, w0 + WIN);
        load_mats(p, op_mats, b, w0, w1, mats);
        __syncthreads();
        for (int i = w0; i < w1; ++i) {
            apply_local_op(p, i, mats + (i - w0) * MAT_SLOT, re, im, nt, tl, false);
            __syncthreads();
        }
    }
    store_tile(g, re, im, nt, tl);
}

// Reverse of local_pass on psi and lam; M partials of op i go to
// mpart[((b * n_tiles + tile) * mrec + mofs[i]) + c].
template <typename real>
__device__ void adjoint_pass(const Program& p, const real* op_mats, real* psi, real* lam, int i0, int i1,
                             unsigned tmask, int L, const int* mofs, int mrec, double* mpart) {
    const unsigned n = 1u << p.num_qubits, nt = 1u << L;
    const int b = blockIdx.y, T = blockDim.x;
    double* red = reinterpret_cast<double*>(hq_smem);
    real* mats = reinterpret_cast<real*>(hq_smem + 8 * blockDim.x);
    real *re = mats + WIN * MAT_SLOT, *im = re + nt, *lre = im + nt, *lim = lre + nt;
    Tile tl = make_tile(tmask, L, n, blockIdx.x, reinterpret_cast<unsigned*>(lim + nt));
    real *g = psi + 2ull * n * b, *gl = lam + 2ull * n * b;
    load_tile(g, re, im, nt, tl);
    load_tile(gl, lre, lim, nt, tl);
    double* rec = mpart + ((long long)b * gridDim.x + blockIdx.x) * mrec;
    for (int w1 = i1; w1 > i0; w1 -= WIN) {
        const int w0 = max(i0, w1 - WIN);
        load_mats(p, op_mats, b, w0, w1, mats);
        __syncthreads();
        for (int i = w1 - 1; i >= w0; --i) {
            const int* op = p.ops + i * OP_FIELDS;
            const real* m = mats + (i - w0) * MAT_SLOT;
            if (is_1q(op[0])) {
                double acc[8];
                unsigned cbit;
                bool cset;
                cx_control(p, op, tl, cbit, cset);
                undo_1q_grad(re, im, lre, lim, nt, local_bit(tmask, qbit(p, op[1])), m, threadIdx.x, T, acc, cbit, cset);
                group_sum<8>(acc, red, rec + mofs[i], T);
            } else if (op[0] == OP_U2) {
                double acc[32];
                undo_2q_grad(re, im, lre, lim, nt, local_bit(tmask, qbit(p, op[1])), local_bit(tmask, qbit(p, op[2])),
                             m, threadIdx.x, T, acc);
                group_sum<32>(acc, red, rec + mofs[i], T);
            } else {
                apply_local_op(p, i, m, re, im, nt, tl, true);
                apply_local_op(p, i, m, lre, lim, nt, tl, true);
            }
            __syncthreads();
        }
    }
    store_tile(g, re, im, nt, tl);
    store_tile(gl, lre, lim, nt, tl);
}

// One block per sample: M of every U1/U2 op in [i0, i1) summed over the tiles, then the chain
// rule, one thread per op of a window. Weight gradients go to the sample's private row.
template <typename real>
__device__ void chain_pass(const Program& p, const real* x, const real* w, int n_in, int n_tiles, int i0,
                                  int i1, const int* mofs, int mrec, const double* mpart, double* dw_rows, int n_w,
                                  double* dx, bool need_x) {
    __shared__ double part[8][32];
    __shared__ double msum[WIN][MAT_SLOT];
    const int b = blockIdx.x, tid = threadIdx.x, c = tid & 31, sl = tid >> 5;  // blockDim = 256
    const real* xb = x + (long long)b * n_in;
    const double* rec0 = mpart + (long long)b * n_tiles * mrec;
    for (int w0 = i0; w0 < i1; w0 += WIN) {
        const int w1 = min(i1, w0 + WIN);
        for (int i = w0; i < w1; ++i) {
            const int kind = p.ops[i * OP_FIELDS], nv = is_1q(kind) ? 8 : (kind == OP_U2 ? 32 : 0);
            if (nv == 0) continue;
            double s = 0.0;
            if (c < nv)
                for (int tile = sl; tile < n_tiles; tile += 8) s += rec0[(long long)tile * mrec + mofs[i] + c];
            part[sl][c] = s;
            __syncthreads();
            if (tid < 32) {
                double v = 0.0;
                for (int q = 0; q < 8; ++q) v += part[q][tid];
                msum[i - w0][tid] = v;
            }
            __syncthreads();
        }
        if (tid < w1 - w0) {
            const int i = w0 + tid, kind = p.ops[i * OP_FIELDS];
            double* dx_row = dx + (long long)b * n_in;
            if (is_1q(kind)) chain_grads<2>(p, i, xb, w, msum[tid], dw_rows + (long long)b * n_w, dx_row, need_x);
            else if (kind == OP_U2) chain_grads<4>(p, i, xb, w, msum[tid], dw_rows + (long long)b * n_w, dx_row, need_x);
        }
        __syncthreads();  // redundant today (covered: msum is next written after the next window's first barrier)
    }
}

// ---- whole-state element-wise kernels (grid-stride over batch * 2^Q) -------------------------
template <typename real>
__device__ void init_states(const Program& p, const real* x, int n_in, int batch, const double* norms, real* psi) {
    const unsigned long long n = 1ull << p.num_qubits, total = n * batch;
    for (unsigned long long e = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; e < total;
         e += (unsigned long long)gridDim.x * blockDim.x) {
        const unsigned long long b = e / n, i = e % n;
        double v = 0.0;
        if (p.amp_size == 0) v = (i == 0) ? 1.0 : 0.0;
        else if (i < (unsigned long long)p.amp_size) v = (double)x[b * n_in + p.amp_start + i] / norms[2 * b] / norms[2 * b + 1];
        psi[2 * e] = (real)v;
        psi[2 * e + 1] = 0;
    }
}

// A whole-state gather dst[i] = src[src(i)] by a bit map (the blocked path's fallback for a map
// that no split into tile-sized factors fits).
template <typename real>
__device__ void permute_states(const unsigned* rows, int num_qubits, int batch, const real* src, real* dst) {
    const unsigned long long n = 1ull << num_qubits, total = n * batch;
    const unsigned c = rows[num_qubits];
    for (unsigned long long e = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; e < total;
         e += (unsigned long long)gridDim.x * blockDim.x) {
        const unsigned long long b = e / n, s = b * n + bit_map_source(rows, c, num_qubits, (unsigned)(e % n));
        dst[2 * e] = src[2 * s];
        dst[2 * e + 1] = src[2 * s + 1];
    }
}

template <typename real>
__device__ void weighted_observable_states(const Program& p, const real* cot, int batch, const real* psi, real* lam) {
    const unsigned long long n = 1ull << p.num_qubits, total = n * batch;
    for (unsigned long long e = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; e < total;
         e += (unsigned long long)gridDim.x * blockDim.x) {
        const unsigned long long b = e / n;
        const unsigned i = (unsigned)(e % n);
        const real* s = psi + 2 * b * n;
        double lr = 0.0, li = 0.0;
        for (int k = 0; k < p.num_terms; ++k) {
            const int* tr = p.terms + k * TERM_FIELDS;
            const double c = cot[b * p.num_observables + tr[0]] * p.term_coeff[k];
            if (c == 0.0) continue;
            const unsigned j = i ^ (unsigned)tr[1];
            double vr = c * s[2 * j], vi = c * s[2 * j + 1];
            if (parity(j & (unsigned)tr[2])) { vr = -vr; vi = -vi; }
            const int ny = tr[3];
            if (ny == 1) { const double q = vr; vr = -vi; vi = q; }
            else if (ny == 2) { vr = -vr; vi = -vi; }
            else if (ny == 3) { const double q = vr; vr = vi; vi = -q; }
            lr += vr; li += vi;
        }
        lam[2 * e] = (real)lr;
        lam[2 * e + 1] = (real)li;
    }
}

// Per (chunk, sample) block: partial sums of conj(psi[i^flip]) psi[i] (-1)^par(i&sign) for all
// terms, 8 at a time: partial[((b * nchunks + chunk) * n_terms + t) * 2 + {re, im}].
template <typename real>
__device__ void expect_partial(const Program& p, const real* psi, int nchunks, double* partial) {
    __shared__ double red[32 * 32];
    __shared__ double sums[16];
    const unsigned long long n = 1ull << p.num_qubits;
    const int b = blockIdx.y, chunk = blockIdx.x;
    const real* s = psi + 2 * n * b;
    const unsigned long long lo = n * chunk / nchunks, hi = n * (chunk + 1) / nchunks;
    for (int t0 = 0; t0 < p.num_terms; t0 += 8) {
        const int cnt = min(8, p.num_terms - t0);
        double acc[16];
        for (int k = 0; k < 16; ++k) acc[k] = 0.0;
        for (unsigned long long i = lo + threadIdx.x; i < hi; i += blockDim.x)
            for (int k = 0; k < cnt; ++k) {
                const int* tr = p.terms + (t0 + k) * TERM_FIELDS;
                const unsigned long long j = i ^ (unsigned)tr[1];
                const double ar = s[2 * i], ai = s[2 * i + 1], br = s[2 * j], bi = s[2 * j + 1];
                const double sg = parity((unsigned)i & (unsigned)tr[2]) ? -1.0 : 1.0;
                acc[2 * k] += sg * (br * ar + bi * ai);
                acc[2 * k + 1] += sg * (br * ai - bi * ar);
            }
        group_sum<16>(acc, red, sums, blockDim.x);
        if (threadIdx.x < 2 * cnt) partial[((long long)b * nchunks + chunk) * p.num_terms * 2 + 2 * t0 + threadIdx.x] = sums[threadIdx.x];
        __syncthreads();  // redundant today (covered: sums is next written after the next group_sum's first barrier)
    }
}

// One thread per sample: out[b, :] from the partial sums (writes every element of the row).
__device__ inline void expect_finish(const Program& p, const double* partial, int batch, int nchunks, double* out) {
    const int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= batch) return;
    double* row = out + (long long)b * p.num_observables;
    for (int o = 0; o < p.num_observables; ++o) row[o] = 0.0;
    for (int k = 0; k < p.num_terms; ++k) {
        double vr = 0.0, vi = 0.0;
        for (int c = 0; c < nchunks; ++c) {
            const double* q = partial + ((long long)b * nchunks + c) * p.num_terms * 2 + 2 * k;
            vr += q[0]; vi += q[1];
        }
        const int* tr = p.terms + k * TERM_FIELDS;
        row[tr[0]] += p.term_coeff[k] * phase_real(tr[3], vr, vi);
    }
}

// One block per sample: norms[b] = (m, |x / m|) of the amplitude-encoded inputs (amp_scale).
template <typename real>
__device__ void amp_norms(const Program& p, const real* x, int n_in, double* norms) {
    __shared__ double red[32 * 32];
    __shared__ double s[3];
    const AmpScale a = amp_scale(x + (long long)blockIdx.x * n_in + p.amp_start, p.amp_size, (const real*)nullptr, 0,
                                 red, s, threadIdx.x, blockDim.x);
    if (threadIdx.x == 0) { norms[2 * blockIdx.x] = a.m; norms[2 * blockIdx.x + 1] = a.norm; }
}

// One block per sample: dx[b, amp] += (2 Re lam_0 - unit * proj) / |x| (after the chain passes).
template <typename real>
__device__ void amp_grad(const Program& p, const real* x, int n_in, const real* lam, double* dx) {
    __shared__ double red[32 * 32];
    __shared__ double s[3];
    const unsigned long long n = 1ull << p.num_qubits;
    const int b = blockIdx.x;
    const real* xb = x + (long long)b * n_in + p.amp_start;
    const real* l = lam + 2 * n * b;
    const AmpScale a = amp_scale(xb, p.amp_size, l, 2, red, s, threadIdx.x, blockDim.x);
    const double proj = 2.0 * a.dot / a.norm, nrm = a.m * a.norm;
    double* row = dx + (long long)b * n_in + p.amp_start;
    for (int j = threadIdx.x; j < p.amp_size; j += blockDim.x)
        row[j] += (2.0 * l[2 * j] - (double)xb[j] / a.m / a.norm * proj) / nrm;
}

// out[c] (+)= sum_r rows[r, c]: the cross-batch reduction of weight gradients.
__device__ inline void reduce_rows(const double* rows, int nrows, int ncols, double* out, bool accumulate) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= ncols) return;
    double s = 0.0;
    for (int r = 0; r < nrows; ++r) s += rows[(long long)r * ncols + c];
    out[c] = accumulate ? out[c] + s : s;
}

}  // namespace hq
