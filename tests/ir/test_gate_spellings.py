"""Every gate of GATES / the hybrid gate set has what each translation and the lowering read
from its GateSpec: a factor code or a decomposition into gates that have one, its names in
OpenQASM / Quil / Qiskit / PennyLane / Cirq (each name naming one gate only), or a rewrite the
translator knows. A new GateSpec that lacks one of these fails here, not in a user's program."""
import numpy as np
import pytest

from hqsim.compile import lower
from hqsim.compile.lower import FACTOR_CODES
from hqsim.hybrid.frontends.qasm_gates import QASM_GATES, QASM_NAMES
from hqsim.hybrid.frontends.quil_convert import QUIL_GATES
from hqsim.hybrid.gateset import GATESET
from hqsim.hybrid.printers.quil import _DIRECT as QUIL_NAMES
from hqsim.ir import GATES, Circuit, Z, const, input, weight
from hqsim.ir.gates import ALL_GATES, LANGUAGES, by_spelling
from hqsim.program import F_CONST, F_NAMES

KINDS = {"const": lambda i: const(0.3 + i), "weight": weight, "input": input}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("name", sorted(GATES))
def test_every_gate_lowers(name, kind):
    spec = GATES[name]
    c = Circuit(spec.num_qubits, num_weights=3, num_inputs=3)
    c.append(name, tuple(range(spec.num_qubits)), [KINDS[kind](i) for i in range(spec.num_params)])
    program = lower(c, [Z(0)])
    assert program.ops.shape[0] >= 1
    if spec.num_params and kind != "const":  # an angle the kernels compute: a factor code
        codes = set(program.factors[:, 0].tolist())
        assert codes - {F_CONST}, f"{name}: no factor reads the angle"


def test_factor_list_names_one_angle_gates():
    assert F_NAMES[F_CONST] == "CONST"
    for name, code in FACTOR_CODES.items():
        assert name in GATES and GATES[name].num_params == 1, name
        assert F_NAMES[code] == name


@pytest.mark.parametrize("name", sorted(GATES))
def test_parametric_gates_reach_the_factor_list(name):
    spec = GATES[name]
    if not spec.num_params:
        return
    steps = [s for s, _ in spec.decomposition] or [name]
    assert all(s in FACTOR_CODES for s in steps), f"{name} needs a factor code or a decomposition"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_spelling_names_one_gate(language):
    seen = {}
    for spec in ALL_GATES.values():
        for n in getattr(spec.names, language):
            assert n not in seen, f"{language} name {n!r} claimed by {seen.get(n)} and {spec.name}"
            seen[n] = spec.name
    assert set(by_spelling(language)) == set(seen)


@pytest.mark.parametrize("name", sorted(GATESET))
def test_hybrid_gates_print_and_parse_in_qasm_and_quil(name):
    spec = GATESET[name]
    assert name in QASM_NAMES, f"{name} has no OpenQASM 3 name"
    assert QASM_GATES[QASM_NAMES[name]][:3] == (name, spec.num_params, spec.num_qubits)
    if name in ("SX", "U3"):   # the Quil printer writes these as rotations
        assert name not in QUIL_NAMES
        return
    assert name in QUIL_NAMES, f"{name} has no Quil form"
    plain = QUIL_NAMES[name].split()[-1]
    assert plain in QUIL_GATES or plain in {s.names.first("quil") for s in GATESET.values()}
    if spec.names.quil:
        assert QUIL_GATES[spec.names.first("quil")] == (name, spec.num_params, spec.num_qubits)


def test_library_readers_cover_every_named_gate():
    from hqsim.interop.pennylane.translate import FIXED, PARAMETRIC
    from hqsim.interop.qiskit.convert import _ANGLE, _FIXED
    for readers, language in (((PARAMETRIC, FIXED), "pennylane"), ((_ANGLE, _FIXED), "qiskit")):
        for spec in GATES.values():
            for n in getattr(spec.names, language):
                table = readers[0] if spec.num_params else readers[1]
                assert table.get(n) == spec.name, (language, n)


def test_spellings_reject_unknown_language():
    with pytest.raises(ValueError, match="language must be one of"):
        by_spelling("quipper")


def test_jump_engine_matrices_per_row_match_the_specs():
    """noise/jumps builds per-row matrices from the generator facts (no gate names)."""
    from hqsim.noise.jumps import gate_matrices
    rng = np.random.default_rng(3)
    x = rng.uniform(-3, 3, size=(5, 1))
    for name, spec in GATES.items():
        if not spec.num_params:
            continue
        c = Circuit(spec.num_qubits, num_inputs=1)
        c.append(name, tuple(range(spec.num_qubits)), [input(0)] + [0.4] * (spec.num_params - 1))
        got = gate_matrices(c.gates[0], x, np.zeros(0))
        want = np.stack([spec.matrix(r, *([0.4] * (spec.num_params - 1))) for r in x[:, 0]])
        np.testing.assert_allclose(got, want, atol=1e-14, err_msg=name)
