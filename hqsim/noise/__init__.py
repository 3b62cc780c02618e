"""Finite shots and gate noise, with gradients.

    import hqsim
    from hqsim.noise import Depolarizing, NoiseModel, ReadoutError, ionq_aria_like

    out = hqsim.expectation(c, x, w, shots=8192, seed=0)               # joint-sampled estimates
    layer = hqsim.QuantumLayer(c, shots=1024, seed=0, gradient="parameter-shift")
    model = NoiseModel(one_qubit=Depolarizing(1e-3), two_qubit=Depolarizing(1e-2, 2),
                       readout=ReadoutError(0.01))
    layer = hqsim.QuantumLayer(c, noise=model, trajectories=64)        # adjoint per trajectory

Modules: channels (noise channels), models (NoiseModel, device-like presets, to_cirq), measure
(measurement groups, readout as an effective observable), shots (joint sampling), expand
(noise and parameter shifts as input columns of one program), trajectories (batched
trajectories and the per-trajectory adjoint), jumps (amplitude damping, forward only),
gradients (parameter shift, SPSA), estimator (all of it behind one forward / vjp; the noisy
path's executor in hqsim/executor.py runs it for hqsim.expectation / vjp / QuantumLayer).
"""
from .channels import (AmplitudeDamping, BitFlip, Channel, Depolarizing, PauliChannel, PhaseDamping,
                       PhaseFlip, ReadoutError)
from .estimator import Estimator
from .measure import effective_observables, plan_measurements
from .models import (PRESETS, NoiseModel, depolarizing_model, google_sycamore_like, google_weber_2021_like,
                     ionq_aria_like)
from .options import GRADIENT_MODES, MAX_SHOTS, SPSA, EstimatorOptions, make_options, make_rng
from .shots import sample_basis_states, sample_expectations

__all__ = [
    "AmplitudeDamping", "BitFlip", "Channel", "Depolarizing", "PauliChannel", "PhaseDamping", "PhaseFlip",
    "ReadoutError", "Estimator", "effective_observables", "plan_measurements", "PRESETS", "NoiseModel",
    "depolarizing_model", "google_sycamore_like", "google_weber_2021_like", "ionq_aria_like", "GRADIENT_MODES", "SPSA",
    "MAX_SHOTS", "EstimatorOptions", "make_options", "make_rng", "sample_basis_states", "sample_expectations",
]
