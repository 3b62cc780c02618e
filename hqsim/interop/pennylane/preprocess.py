"""The device's preprocessing: PennyLane transforms that turn any tape into one hqsim can run.

Order: wires validated; tapes with finite shots split into qubit-wise commuting groups and
rotated so that every measurement reads computational-basis bits; operations hqsim lacks
decomposed (what it has is kept, see translate.supports_operation); measurements validated.
For device derivatives (``diff_method="adjoint"`` or ``"device"``) the adjoint's preconditions
follow: no shots, trainable operations hqsim can differentiate, expectation values of
Pauli-representable observables only, no trainable state preparation. Mid-circuit measurements
are declined by the decomposition step (PennyLane's DeviceError: not supported, no decomposition).
"""
from __future__ import annotations

from ._deps import qml
from .translate import FIXED, PARAMETRIC, observable, supports_operation, supports_trainable_operation

_pre = qml.devices.preprocess
_m = qml.measurements
DeviceError = qml.exceptions.DeviceError
DEVICE_GRADIENTS = ("adjoint", "device")
# Gate names offered to PennyLane's graph-based decomposition (the other constant gates hqsim
# takes as dense unitaries are accepted by the stopping condition).
TARGET_GATES = frozenset(PARAMETRIC) | frozenset(FIXED) | {"GlobalPhase", "Identity", "QubitUnitary"}
_SHADOWS = (_m.ClassicalShadowMP, _m.ShadowExpvalMP)


def _observable_ok(obs, sampled: bool) -> bool:
    if isinstance(obs, qml.ops.CompositeOp):
        return all(_observable_ok(o, sampled) for o in obs.operands)
    if isinstance(obs, qml.ops.SymbolicOp):
        return _observable_ok(obs.base, sampled)
    return obs.has_diagonalizing_gates or (not sampled and obs.has_matrix)


def accepts_analytic(m) -> bool:
    """Measurements computed from the exact final state."""
    return isinstance(m, _m.StateMeasurement) and (m.obs is None or _observable_ok(m.obs, False))


def accepts_sampled(m) -> bool:
    """Measurements computed from sampled bitstrings."""
    return (isinstance(m, _m.SampleMeasurement) and not isinstance(m, _SHADOWS)
            and (m.obs is None or _observable_ok(m.obs, True)))


@qml.transform
def measure_in_computational_basis(tape):
    """Finite-shot tapes: split into groups whose measurements act on disjoint wires, each
    followed by its measurements' diagonalizing gates, so that every measurement reads
    computational-basis bits and maps them through its observable's eigenvalues (PennyLane's
    contract between ``diagonalizing_gates`` and ``eigvals``). ``diagonalize_measurements`` is
    not used: with ``to_eigvals=True`` it drops the rotation of a state-vector Projector
    (PennyLane 0.45). Analytic tapes pass unchanged."""
    if not tape.shots:
        return (tape,), _pre.null_postprocessing
    groups, recombine = qml.transforms.split_non_commuting(tape, grouping_strategy="wires")
    rotated = [t.copy(operations=list(t.operations) + [g for m in t.measurements for g in m.diagonalizing_gates()])
               for t in groups]
    return rotated, recombine


@qml.transform
def validate_adjoint_measurements(tape, name: str = "hqsim.qubit"):
    """The adjoint of hqsim differentiates expectation values of real Pauli sums only."""
    qubit_of = {w: q for q, w in enumerate(tape.wires)}
    for m in tape.measurements:
        if not isinstance(m, _m.ExpectationMP) or m.obs is None or observable(m.obs, qubit_of) is None:
            raise DeviceError(
                f"adjoint differentiation on {name} supports expectation values of observables "
                f"with a real Pauli decomposition only, got {m}; use diff_method='parameter-shift'")
    return (tape,), _pre.null_postprocessing


def _decompose(program, stopping_condition, wires, name):
    program.add_transform(_pre.decompose, stopping_condition=stopping_condition, device_wires=wires,
                          target_gates=TARGET_GATES, skip_initial_state_prep=False, name=name)


def build_program(wires, gradient_method, device_vjp: bool = True, name: str = "hqsim.qubit"):
    """The CompilePipeline for one execution configuration. ``device_vjp`` False: PennyLane
    will ask for Jacobians, which it can only contract for unbroadcast tapes, so broadcast
    tapes are split (the device batches the pieces back into one hqsim call)."""
    program = qml.transforms.core.CompilePipeline()
    program.add_transform(_pre.validate_device_wires, wires, name=name)
    program.add_transform(measure_in_computational_basis)
    _decompose(program, supports_operation, wires, name)
    program.add_transform(_pre.validate_measurements, analytic_measurements=accepts_analytic,
                          sample_measurements=accepts_sampled, name=name)
    if gradient_method in DEVICE_GRADIENTS:
        adjoint_name = f"adjoint + {name}"
        program.add_transform(_pre.no_sampling, name=adjoint_name)
        _decompose(program, supports_trainable_operation, wires, adjoint_name)
        program.add_transform(validate_adjoint_measurements, name=name)
        program.add_transform(_pre.validate_adjoint_trainable_params)
        if not device_vjp:
            program.add_transform(qml.transforms.broadcast_expand)
    return program


def supports_adjoint(circuit, wires, name: str = "hqsim.qubit") -> bool:
    """Whether ``circuit`` (or any circuit, when None) can be differentiated by the device."""
    if circuit is None:
        return True
    try:
        build_program(wires, "adjoint", True, name)((circuit,))
    except (DeviceError, qml.exceptions.DecompositionUndefinedError, qml.exceptions.QuantumFunctionError):
        return False
    return True
