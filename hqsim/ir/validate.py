"""Checks on user arrays before they reach any kernel: shapes, finiteness, memory."""
from __future__ import annotations

import os

import numpy as np

from .observables import as_observable


def default_observables(num_qubits: int):
    from .observables import Z
    return [Z(q) for q in range(num_qubits)]


def check_observables(observables, num_qubits: int):
    obs = [as_observable(o) for o in observables]
    if not obs:
        raise ValueError("observables must hold at least one observable")
    for k, o in enumerate(obs):
        for q in o.qubits:
            if q >= num_qubits:
                raise ValueError(
                    f"observables[{k}] = {o!r} acts on qubit {q}, but the circuit has qubits 0..{num_qubits - 1}")
    return obs


def check_inputs(inputs, num_inputs: int) -> np.ndarray:
    """Return inputs as a (B, num_inputs) float array; B >= 1."""
    arr = np.asarray(inputs)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"inputs must be real numbers, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"inputs must have shape (batch, {num_inputs}), got {arr.shape}")
    if arr.shape[1] != num_inputs:
        raise ValueError(f"inputs must have shape (batch, {num_inputs}), got {arr.shape}")
    if arr.shape[0] < 1:
        raise ValueError("inputs must hold at least one sample (batch >= 1)")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"inputs contain NaN or inf (first at sample {bad[0]}, feature {bad[1]})")
    return arr


def check_weights(weights, num_weights: int) -> np.ndarray:
    arr = np.asarray(weights if weights is not None else np.zeros(0))
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"weights must be real numbers, got dtype {arr.dtype}")
    arr = arr.reshape(-1)
    if arr.size != num_weights:
        raise ValueError(f"weights must hold {num_weights} values (the circuit's weight count), got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"weights contain NaN or inf (first at index {int(np.argwhere(~np.isfinite(arr))[0][0])})")
    return arr


SMALL_STATE_BYTES = 64 << 20


def available_memory_bytes() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_state_fits(num_qubits: int, batch: int, itemsize: int, states_per_sample: int = 2,
                     what: str = "simulation"):
    """Raise MemoryError-like ValueError naming the bytes needed when the states will not fit."""
    need = int(batch) * (2 ** num_qubits) * itemsize * states_per_sample
    if need <= SMALL_STATE_BYTES:  # no /proc read on every small training step
        return need
    free = available_memory_bytes()
    if need > free:
        raise ValueError(
            f"{what} of {num_qubits} qubits for batch {batch} needs {need:,} bytes "
            f"({need / 2**30:.2f} GiB) of state memory but only {free:,} bytes are available; "
            "use fewer qubits, a smaller batch, or complex64")
    return need


def check_amplitudes(x: np.ndarray, circuit) -> None:
    """An amplitude-encoded block must have a non-zero entry to become a state (the one input
    unit_amplitudes refuses; x is already checked finite). Only the zero test: this runs on
    every call of every entry, and normalising the block here cost a W2 training step ~2 %."""
    enc = circuit.amplitude_encoding
    if enc is not None:
        block = np.asarray(x)[:, enc.start:enc.start + enc.size]
        zero = ~np.any(block != 0, axis=1)
        if np.any(zero):
            raise _all_zero(int(np.argmax(zero)))


def _all_zero(sample: int) -> ValueError:
    return ValueError(f"amplitude-encoded inputs of sample {sample} are all zero; "
                      "a zero vector cannot be normalised into a state")


def unit_amplitudes(feats) -> tuple[np.ndarray, np.ndarray]:
    """(feats / |feats| (B, n) float64, |feats| (B,) float64) per row, with a scaled norm: each
    row is divided by its largest magnitude m first, so no square overflows (|x| ~ 1e200) or
    underflows (|x| ~ 1e-200) and every finite row with a non-zero entry gives a unit vector,
    in float32 and float64 alike (|feats| = m |feats / m| is inf only past float64's range).
    Raises ValueError for an all-zero row. ``feats`` is not mutated."""
    feats = np.asarray(feats, dtype=np.float64)
    m = np.max(np.abs(feats), axis=1) if feats.shape[1] else np.zeros(len(feats))
    if np.any(m == 0):
        raise _all_zero(int(np.argmin(m)))
    scaled = feats / m[:, None]
    n = np.sqrt(np.sum(scaled * scaled, axis=1))
    with np.errstate(over="ignore"):
        return scaled / n[:, None], m * n
