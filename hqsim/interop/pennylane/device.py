"""``hqsim.qubit``: a PennyLane device (``pennylane.devices.Device``) backed by hqsim.

    import pennylane as qml
    dev = qml.device("hqsim.qubit", wires=10, seed=0)           # complex64, backend "auto"
    @qml.qnode(dev, diff_method="adjoint", interface="torch")
    def circuit(x, w): ...

A batch of tapes, and parameter broadcasting within a tape, run as ONE hqsim call per distinct
circuit structure (translate / batching); gradients with ``diff_method="adjoint"`` or
``"device"`` come from one batched adjoint pass (derivatives). ``"parameter-shift"`` and
``"finite-diff"`` are PennyLane's own, run on this device (their shifted tapes batch too);
``"backprop"`` is not supported (the simulation is not written in an autodiff framework).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ._deps import qml
from .derivatives import jacobian_tapes, vjp_tapes
from .execute import execute_tapes
from ..sim_options import make_options
from .preprocess import DEVICE_GRADIENTS, DeviceError, build_program, supports_adjoint

_modifiers = qml.devices.modifiers


@_modifiers.simulator_tracking
@_modifiers.single_tape_support
class HQSimQubit(qml.devices.Device):
    """hqsim's batched statevector simulator as a PennyLane device.

    Args:
        wires: number of wires or their labels (optional, as for default.qubit).
        shots: default shots (deprecated by PennyLane in favour of ``qml.set_shots``).
        seed: None, an int or a numpy Generator: the sampling of finite-shot measurements.
        dtype: np.complex64 (default) or np.complex128 state precision (or their names).
        backend: hqsim backend, "auto" (CUDA for... none here: Numba on CPU), "numba", "cuda"
            or "reference" (the float64 NumPy oracle).
    """

    name = "hqsim.qubit"

    def __init__(self, wires=None, shots=None, seed=None, dtype=np.complex64, backend="auto"):
        super().__init__(wires=wires, shots=shots)
        self._options = make_options(backend, dtype)
        self._rng = np.random.default_rng(seed)

    @property
    def options(self):
        """The typed DeviceOptions (backend, dtype)."""
        return self._options

    # -- configuration and preprocessing ------------------------------------------------------
    def setup_execution_config(self, config=None, circuit=None):
        config = config or qml.devices.ExecutionConfig()
        if config.device_options:
            raise DeviceError(f"{self.name} takes no device_options (got {sorted(config.device_options)}); "
                              "pass dtype, backend and seed to qml.device")
        mcm = config.mcm_config.mcm_method
        if mcm is not None:
            raise DeviceError(f"mcm_method={mcm!r} is not supported on {self.name}: "
                              "mid-circuit measurements are not supported")
        method = "adjoint" if config.gradient_method == "best" else config.gradient_method
        device_grad = method in DEVICE_GRADIENTS
        updates = {"gradient_method": method}
        if config.use_device_gradient is None:
            updates["use_device_gradient"] = device_grad
        if config.use_device_jacobian_product is None:
            updates["use_device_jacobian_product"] = device_grad
        if config.grad_on_execution is None:
            updates["grad_on_execution"] = False
        return replace(config, **updates)

    def preprocess_transforms(self, execution_config=None):
        config = execution_config or qml.devices.ExecutionConfig()
        return build_program(self.wires, config.gradient_method, bool(config.use_device_jacobian_product), self.name)

    # -- execution ------------------------------------------------------------------------------
    def execute(self, circuits, execution_config=None):
        return execute_tapes(circuits, self._options, self._rng)

    # -- derivatives ------------------------------------------------------------------------------
    def supports_derivatives(self, execution_config=None, circuit=None) -> bool:
        if execution_config is None:
            return True
        if execution_config.gradient_method not in DEVICE_GRADIENTS + ("best",) \
                or execution_config.derivative_order != 1:
            return False
        if circuit is not None and circuit.shots:
            return False
        return supports_adjoint(circuit, self.wires, self.name)

    def supports_vjp(self, execution_config=None, circuit=None) -> bool:
        return self.supports_derivatives(execution_config, circuit)

    def compute_derivatives(self, circuits, execution_config=None):
        return jacobian_tapes(circuits, self._options)

    def execute_and_compute_derivatives(self, circuits, execution_config=None):
        return self.execute(circuits, execution_config), self.compute_derivatives(circuits, execution_config)

    def compute_vjp(self, circuits, cotangents, execution_config=None):
        return vjp_tapes(circuits, cotangents, self._options)

    def execute_and_compute_vjp(self, circuits, cotangents, execution_config=None):
        return self.execute(circuits, execution_config), self.compute_vjp(circuits, cotangents, execution_config)
