"""hqsim's JSON circuit description (what ``hqsim export FILE.json`` reads); no Cirq needed.

::

    {"num_qubits": 2,
     "num_inputs": 1, "num_weights": 1,                        (optional)
     "amplitude_encoding": {"start": 0, "size": 4},            (optional)
     "gates": [
       {"gate": "RY", "qubits": [0], "params": [{"input": 0}]},
       {"gate": "RZ", "qubits": [1], "params": [{"weight": 0, "scale": 0.5, "offset": 0.1}]},
       {"gate": "RX", "qubits": [1], "params": [0.3]},
       {"gate": "CNOT", "qubits": [0, 1]},
       {"gate": "Unitary", "qubits": [0], "matrix": [[[0, 0], [1, 0]], [[1, 0], [0, 0]]]}],
     "weights": [0.7],                                         (optional, trained values)
     "inputs": [[0.1], [0.2]]}                                 (optional, (B, num_inputs))

Gate names are hqsim's (``hqsim/ir/gates.py``: H X Y Z S T SX RX RY RZ PhaseShift U3 Rot CNOT
CZ SWAP CRX CRY CRZ RXX RYY RZZ Unitary). An angle is a number or ``{"input"|"weight": index,
"scale": s, "offset": o}`` meaning ``s * value + o``. Matrix entries are ``[re, im]`` pairs.
"""
from __future__ import annotations

import json
from numbers import Real

import numpy as np

from ..ir import CONST, INPUT, WEIGHT, AmplitudeEncoding, Circuit, Param


def _param(spec, where: str) -> Param:
    if isinstance(spec, Real) and not isinstance(spec, bool):
        return Param(CONST, 0, 0.0, float(spec))
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: an angle is a number or an object with 'input' or 'weight'")
    keys = set(spec) - {"scale", "offset"}
    if keys not in ({"input"}, {"weight"}):
        raise ValueError(f"{where}: expected exactly one of 'input' or 'weight' (plus optional "
                         f"'scale', 'offset'), got keys {sorted(spec)}")
    (kind,) = keys
    index = spec[kind]
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"{where}.{kind}: index must be a non-negative int, got {index!r}")
    source = INPUT if kind == "input" else WEIGHT
    return Param(source, index, float(spec.get("scale", 1.0)), float(spec.get("offset", 0.0)))


def _matrix(spec, where: str) -> np.ndarray:
    try:
        arr = np.asarray(spec, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: matrix must be a square array of [re, im] pairs") from exc
    if arr.ndim != 3 or arr.shape[2] != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{where}: matrix must have shape (d, d, 2) ([re, im] pairs), got {arr.shape}")
    return arr[..., 0] + 1j * arr[..., 1]


def circuit_from_json(data: dict):
    """(Circuit, weights or None, inputs (B, n) or None) from the description above."""
    if not isinstance(data, dict) or "num_qubits" not in data or "gates" not in data:
        raise ValueError("an hqsim circuit JSON needs 'num_qubits' and 'gates'")
    enc = data.get("amplitude_encoding")
    if enc is not None:
        enc = AmplitudeEncoding(int(enc.get("start", 0)), int(enc["size"]))
    c = Circuit(data["num_qubits"], amplitude_encoding=enc, num_inputs=data.get("num_inputs"),
                num_weights=data.get("num_weights"))
    for k, g in enumerate(data["gates"]):
        where = f"gates[{k}]"
        if not isinstance(g, dict) or "gate" not in g or "qubits" not in g:
            raise ValueError(f"{where}: a gate needs 'gate' and 'qubits'")
        params = [_param(p, f"{where}.params[{i}]") for i, p in enumerate(g.get("params", []))]
        matrix = _matrix(g["matrix"], where) if "matrix" in g else None
        try:
            c.append(g["gate"], g["qubits"], params, matrix)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from exc
    weights = None if data.get("weights") is None else np.asarray(data["weights"], dtype=np.float64)
    inputs = None if data.get("inputs") is None else np.atleast_2d(np.asarray(data["inputs"], dtype=np.float64))
    return c, weights, inputs


def _param_json(p: Param):
    if p.is_constant:
        return p.offset
    out = {"input" if p.source == INPUT else "weight": p.index}
    if p.scale != 1.0:
        out["scale"] = p.scale
    if p.offset != 0.0:
        out["offset"] = p.offset
    return out


def circuit_to_json(circuit: Circuit, weights=None, inputs=None) -> dict:
    """The JSON description of ``circuit`` (and optional weights / inputs)."""
    out: dict = {"num_qubits": circuit.num_qubits, "num_inputs": circuit.num_inputs,
                 "num_weights": circuit.num_weights}
    if circuit.amplitude_encoding is not None:
        enc = circuit.amplitude_encoding
        out["amplitude_encoding"] = {"start": enc.start, "size": enc.size}
    gates = []
    for g in circuit.gates:
        item: dict = {"gate": g.name, "qubits": list(g.qubits)}
        if g.params:
            item["params"] = [_param_json(p) for p in g.params]
        if g.matrix is not None:
            item["matrix"] = np.stack([g.matrix.real, g.matrix.imag], axis=-1).tolist()
        gates.append(item)
    out["gates"] = gates
    for key, vals in (("weights", weights), ("inputs", inputs)):
        if vals is None:
            continue
        arr = np.asarray(vals, dtype=np.float64)
        if not np.all(np.isfinite(arr)):  # JSON has no NaN or inf (json.dumps would write "NaN")
            raise ValueError(f"{key} contain NaN or inf; a circuit description holds finite values")
        out[key] = arr.reshape(-1).tolist() if key == "weights" else np.atleast_2d(arr).tolist()
    return out


def load(path: str):
    """Read a JSON file: the parsed object."""
    with open(path) as f:
        return json.load(f)
