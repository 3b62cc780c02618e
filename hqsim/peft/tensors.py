"""Tensor-network maps on a reshaped feature axis: the matrix product operator (MPO) of QTHA
and the two-axis gate sequence of QuanTA. Both act on the last axis of ``x`` (…, d_in) by
reshaping it into K axes ``d_in = i_1·…·i_K`` (and the output into ``o_1·…·o_K``), so neither
ever forms a d_out × d_in matrix except when asked for one (``to_matrix``, used by merges)."""
from __future__ import annotations

import itertools
import math
import string

import torch
from torch import nn


def factorize(d: int, k: int) -> tuple[int, ...]:
    """``k`` factors of ``d``, as equal as a greedy split of its prime factors makes them
    (largest first). 384, 3 → (8, 8, 6); a prime ``d`` gives (d, 1, …, 1)."""
    if d < 1 or k < 1:
        raise ValueError(f"cannot factorize {d} into {k} factors")
    primes, n, p = [], d, 2
    while p * p <= n:
        while n % p == 0:
            primes.append(p)
            n //= p
        p += 1
    if n > 1:
        primes.append(n)
    bins = [1] * k
    for p in sorted(primes, reverse=True):
        bins[bins.index(min(bins))] *= p
    return tuple(sorted(bins, reverse=True))


def to_matrix(apply, d_in: int, like: torch.Tensor) -> torch.Tensor:
    """The (d_out, d_in) matrix of the linear map ``apply`` (…, d_in) → (…, d_out)."""
    eye = torch.eye(d_in, dtype=like.dtype, device=like.device)
    return apply(eye).T


class MPO(nn.Module):
    """``x`` (…, d_in) → (…, d_out) through K cores ``G_k`` of shape (χ_{k-1}, o_k, i_k, χ_k),
    χ_0 = χ_K = 1. Parameters: Σ_k χ_{k-1} o_k i_k χ_k. ``zero_last`` makes the map exactly
    zero at initialisation (the other cores are random, so the last core's gradient is not)."""

    def __init__(self, d_in: int, d_out: int, cores: int, bond: int, zero_last: bool = True,
                 dtype=torch.float32):
        super().__init__()
        self.d_in, self.d_out = d_in, d_out
        self.in_dims, self.out_dims = factorize(d_in, cores), factorize(d_out, cores)
        bonds = [1] + [bond] * (cores - 1) + [1]
        self.cores = nn.ParameterList()
        for k in range(cores):
            shape = (bonds[k], self.out_dims[k], self.in_dims[k], bonds[k + 1])
            if zero_last and k == cores - 1:
                core = torch.zeros(shape, dtype=dtype)
            else:  # keeps the partial contractions at the input's scale
                core = torch.randn(shape, dtype=dtype) / math.sqrt(self.in_dims[k] * bonds[k])
            self.cores.append(nn.Parameter(core))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        n = x.reshape(-1, self.d_in).shape[0]
        # t: (n, outputs so far, bond, remaining inputs)
        t = x.reshape(n, 1, 1, self.d_in)
        rest = self.d_in
        for core, i_k in zip(self.cores, self.in_dims):
            rest //= i_k
            t = t.reshape(n, t.shape[1], t.shape[2], i_k, rest)
            t = torch.einsum("noair,apib->nopbr", t, core)
            t = t.reshape(n, -1, core.shape[3], rest)
        return t.reshape(*lead, self.d_out)


def gate_shapes(in_dims, out_dims) -> list[tuple[tuple[int, int], tuple[int, int, int, int]]]:
    """QuanTA's gate sequence: one gate per pair of axes (m < n, in order), each of shape
    (new_m, new_n, cur_m, cur_n); an axis takes its output size at the last gate touching it."""
    k = len(in_dims)
    pairs = list(itertools.combinations(range(k), 2))
    last = {a: max(g for g, p in enumerate(pairs) if a in p) for a in range(k)}
    cur, out = list(in_dims), []
    for g, (m, n) in enumerate(pairs):
        new_m = out_dims[m] if last[m] == g else cur[m]
        new_n = out_dims[n] if last[n] == g else cur[n]
        out.append(((m, n), (new_m, new_n, cur[m], cur[n])))
        cur[m], cur[n] = new_m, new_n
    return out


def apply_gates(x: torch.Tensor, gates, pairs, in_dims, out_dims) -> torch.Tensor:
    """Apply QuanTA gates (each acting on a pair of axes of the reshaped ``x`` (…, d_in))."""
    lead = x.shape[:-1]
    t = x.reshape(-1, *in_dims)
    letters = string.ascii_lowercase[:len(in_dims)]
    for (m, n), gate in zip(pairs, gates):
        new_m, new_n = letters[m].upper(), letters[n].upper()
        out = letters.replace(letters[m], new_m).replace(letters[n], new_n)
        t = torch.einsum(f"z{letters},{new_m}{new_n}{letters[m]}{letters[n]}->z{out}", t, gate)
    return t.reshape(*lead, math.prod(out_dims))


def identity_gate(shape, dtype=torch.float32) -> torch.Tensor:
    """A (new_m, new_n, cur_m, cur_n) gate that copies the entries both index ranges share (the
    identity when the shape is square)."""
    a_out, b_out, a_in, b_in = shape
    ea = torch.eye(a_out, a_in, dtype=dtype)
    eb = torch.eye(b_out, b_in, dtype=dtype)
    return torch.einsum("Aa,Bb->ABab", ea, eb)
