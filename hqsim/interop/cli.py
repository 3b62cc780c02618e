"""``hqsim export``: a circuit or model as Cirq JSON, OpenQASM 3/2 or an IonQ API job body.

Registered by ``hqsim/cli.py``; nothing heavy (Cirq) is imported until the command runs.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from ..ir import Circuit
from ..outputs import atomic_write, check_output_path

FORMATS = ("cirq-json", "qasm3", "qasm2", "ionq-json")
MODELS = {  # name -> (ansatz function, {CLI key: keyword}, required keys)
    "rpqc": ("rpqc", {"Q": "num_qubits", "R": "reuploads", "L": "layers", "C": "connectivity"}),
    "ring": ("ring_pqc", {"Q": "num_qubits", "L": "layers", "C": "connectivity"}),
    "qpu": ("reuploading_module", {"Q": "num_qubits", "N": "blocks", "L1": "pqc1_layers",
                                   "L2": "pqc2_layers", "C": "connectivity"}),
    "encoder": ("amplitude_encoder", {"Q": "num_qubits", "D": "num_features", "M": "layers",
                                      "C": "connectivity"}),
}

DESCRIPTION = """\
Export a circuit or a trained model for hardware or other tools.

MODEL_OR_PROGRAM is one of
  rpqc:Q=4,R=2,L=2,C=1         W1 re-uploading PQC (R, L, C optional: defaults 4, 2, 1)
  ring:Q=4,L=2,C=1             the QLLM paper's ring PQC (weights only)
  qpu:Q=4,N=4,L1=1,L2=2,C=2    the QLLM QPU module (inputs = encoder outputs, Q angles)
  encoder:Q=4,D=10,M=2,C=2     the QLLM amplitude encoder (needs --inputs, D features)
  FILE.json                    an hqsim circuit description (see hqsim/interop/jsonfmt.py:
                               {"num_qubits", "gates": [{"gate", "qubits", "params"}],
                               optional "weights", "inputs"}) or a Cirq JSON circuit
                               (cirq.to_json output)

Weights come from --weights, else the JSON file, else uniform in [0, 2pi) from --seed.
Inputs come from --inputs, else the JSON file; without them they stay parameters
(symbols x0, x1, ... in Cirq JSON; `input float[64] x0;` in OpenQASM 3).

--target compiles before exporting:
  none (default)               the circuit as built
  ionq | ionq:qis              IonQ QIS gates (ionq-json default)
  ionq:aria | ionq:forte       IonQ native GPI/GPI2/MS (Aria) or GPI/GPI2/ZZ (Forte)
  google:PROC[:cz|sqrt_iswap]  routed onto a Google device (rainbow, weber, willow_pink)

--to ionq-json writes the job body cirq-ionq would POST (type, lang, input, metadata;
backend and shots are added at submission).  Examples:
  hqsim export rpqc:Q=4,R=1 --to qasm3
  hqsim export model.json --inputs x.npy --to ionq-json --target ionq:aria -o job.json
  hqsim export qpu:Q=4 --weights w.npy --to cirq-json --target google:rainbow --report
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("export", help="export a circuit as Cirq JSON, OpenQASM or IonQ JSON",
                              description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL_OR_PROGRAM", help="a named model (rpqc:Q=4,...) or a .json file")
    p.add_argument("--to", required=True, choices=FORMATS, help="output format")
    p.add_argument("--target", default=None, help="none | ionq[:qis|aria|forte] | google:PROC[:cz|sqrt_iswap]")
    p.add_argument("--weights", help="weights file (.npy or .json list)")
    p.add_argument("--inputs", help="inputs file (.npy or .json), shape (B, num_inputs) or (num_inputs,)")
    p.add_argument("--seed", type=int, default=0, help="seed for random weights (default 0)")
    p.add_argument("-o", "--output", help="output file (default: stdout)")
    p.add_argument("--report", action="store_true", help="print gate counts and 2q depth before/after compiling to stderr")
    p.set_defaults(func=run)


def parse_model(spec: str):
    """``name:K=V,...`` -> an hqsim Circuit from ``hqsim.ansatz``."""
    from .. import ansatz
    name, _, rest = spec.partition(":")
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; models: {', '.join(MODELS)} (or a .json file)")
    func, keys = MODELS[name]
    kwargs = {}
    for item in filter(None, rest.split(",")):
        k, eq, v = item.partition("=")
        if not eq or k not in keys or not v.lstrip("-").isdigit():
            raise ValueError(f"bad model option {item!r} for {name}: expected K=int with K in {', '.join(keys)}")
        kwargs[keys[k]] = int(v)
    if "num_qubits" not in kwargs:
        raise ValueError(f"model {name} needs Q=<qubits>, e.g. {name}:Q=4")
    return getattr(ansatz, func)(**kwargs)


def _array(path: str, option: str) -> np.ndarray:
    """A finite float64 array from a .npy or JSON file; every error names the option and file."""
    try:
        if path.endswith(".npy"):
            arr = np.asarray(np.load(path, allow_pickle=False), dtype=np.float64)
        else:
            with open(path, encoding="utf-8") as f:
                arr = np.asarray(json.load(f), dtype=np.float64)
    except OSError as exc:
        raise ValueError(f"{option} {path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{option} {path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except (ValueError, TypeError, EOFError, UnicodeDecodeError) as exc:
        raise ValueError(f"{option} {path}: not an array of numbers (.npy, or a JSON list): {exc}") from None
    return _finite(arr, f"{option} {path}")


def _finite(arr, what: str):
    """``arr`` if every entry is finite; exporters write angles, and nan / inf is no angle."""
    if arr is not None and not np.all(np.isfinite(arr)):
        at = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{what}: holds NaN or inf (first at index {at[0] if len(at) == 1 else at}); "
                         "an exported circuit needs finite angles")
    return arr


def load_model(args):
    """(hqsim Circuit or cirq.Circuit, weights, inputs (B, n) or None)."""
    weights = inputs = None
    if args.model.endswith(".json"):
        circuit, weights, inputs = _load_json_model(args.model)
        if not isinstance(circuit, Circuit):
            return circuit, None, None  # a Cirq circuit
        weights, inputs = _finite(weights, f"{args.model}: weights"), _finite(inputs, f"{args.model}: inputs")
    else:
        circuit = parse_model(args.model)
    if args.weights:
        weights = _array(args.weights, "--weights")
    if weights is None and circuit.num_weights:
        weights = np.random.default_rng(args.seed).uniform(0, 2 * np.pi, circuit.num_weights)
        print(f"note: random weights (seed {args.seed}); pass --weights for trained values", file=sys.stderr)
    if args.inputs:
        inputs = np.atleast_2d(_array(args.inputs, "--inputs"))
    return circuit, weights, inputs


def _load_json_model(path: str):
    """(hqsim Circuit, weights, inputs) or (cirq.Circuit, None, None) from a JSON file; a file
    that cannot be read or is not a circuit is a ValueError naming it (line:col for JSON)."""
    from .jsonfmt import circuit_from_json
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(f"{path}: not a JSON file ({type(exc).__name__})") from None
    try:
        if isinstance(data, dict) and "cirq_type" in data:
            from ._deps import cirq
            return cirq.read_json(json_text=json.dumps(data)), None, None
        return circuit_from_json(data)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise ValueError(f"{path}: not a circuit description ({type(exc).__name__}: {exc}); see "
                         "hqsim export --help for the format") from None


def _compile(circuit, target: str | None, report: bool):
    """Compile a cirq.Circuit for ``target``; print the report when asked."""
    if target in (None, "none"):
        return circuit
    kind, _, rest = target.partition(":")
    if kind == "ionq":
        from .ionq import compile_for_ionq
        out, rep = compile_for_ionq(circuit, rest or "qis")
    elif kind == "google":
        from .google import compile_for_google
        proc, _, gateset = rest.partition(":")
        comp = compile_for_google(circuit, proc or "rainbow", gateset or "cz")
        out, rep = comp.circuit, comp.report
    else:
        raise ValueError(f"--target must be none, ionq[:gateset] or google:PROC[:gateset], got {target!r}")
    if report:
        print(rep.format(), file=sys.stderr)
    return out


def _circuits(circuit, weights, inputs) -> list:
    """Cirq circuits to export: one parameterised circuit, or one per input row."""
    from ._deps import cirq
    from .cirq import export_resolved, to_cirq
    if isinstance(circuit, cirq.AbstractCircuit):
        return [circuit]
    if inputs is None:
        return [to_cirq(circuit, weights, None)]
    return export_resolved(circuit, weights, inputs)


def _ionq_json(circuits) -> dict:
    from ._deps import cirq, require_ionq
    ionq = require_ionq()
    measured = [c if c.has_measurements() else
                c + cirq.measure(*sorted(c.all_qubits()), key="m") for c in circuits]
    ser = ionq.Serializer()
    if len(measured) == 1:
        prog, kind = ser.serialize_single_circuit(measured[0]), "ionq.circuit.v1"
    else:
        prog, kind = ser.serialize_many_circuits(measured), "ionq.multi-circuit.v1"
    return {"type": kind, "lang": "json", "input": prog.input, "metadata": prog.metadata}


def export_text(args) -> str:
    from ._deps import cirq
    circuit, weights, inputs = load_model(args)
    target = args.target if args.target is not None else ("ionq" if args.to == "ionq-json" else None)
    if args.to == "ionq-json" and not (target or "").startswith("ionq"):
        raise ValueError("--to ionq-json needs an IonQ target (ionq, ionq:aria or ionq:forte)")
    if args.to in ("qasm3", "qasm2") and target in (None, "none") and not isinstance(circuit, cirq.AbstractCircuit):
        from .qasm import hqsim_to_qasm
        if inputs is not None and inputs.shape[0] > 1:
            raise ValueError("OpenQASM export takes one sample: --inputs with one row, or none "
                             "(inputs become OpenQASM 3 input parameters)")
        return hqsim_to_qasm(circuit, args.to[-1], weights, None if inputs is None else inputs[0])
    circuits = [_compile(c, target, args.report) for c in _circuits(circuit, weights, inputs)]
    if args.to == "cirq-json":
        return cirq.to_json(circuits[0] if len(circuits) == 1 else circuits) + "\n"
    if args.to == "ionq-json":
        unbound = sorted({n for c in circuits for n in cirq.parameter_names(c)})
        if unbound:
            raise ValueError(f"--to ionq-json needs values for {', '.join(unbound)}: pass --inputs "
                             "(the IonQ API takes resolved circuits only)")
        return json.dumps(_ionq_json(circuits), indent=1) + "\n"
    from .qasm import cirq_to_qasm
    if len(circuits) > 1:
        raise ValueError("OpenQASM export takes one sample: pass --inputs with one row")
    return cirq_to_qasm(circuits[0], args.to[-1])


def run(args) -> int:
    try:
        target = check_output_path(args.output) if args.output else None
        text = export_text(args)
        if target is not None:
            atomic_write(target, text)
    except (ValueError, TypeError, OSError) as exc:
        print(f"hqsim export: error: {exc}", file=sys.stderr)
        return 2
    if not args.output:
        sys.stdout.write(text)
    return 0
