"""The execution spine: every public entry (hqsim.expectation, hqsim.vjp, hqsim.statevector,
hqsim.QuantumLayer, and through them the one torch.autograd.Function in hqsim/autodiff) runs a
compiled circuit through an executor, chosen in one place (``choose_executor``):

- ExactExecutor: the compiled op program on a backend (hqsim/backends);
- NoisyExecutor: finite shots, gate noise and hardware-style gradients (the Estimator of
  hqsim.noise, which samples in NumPy on the host: this executor takes host arrays whatever the
  backend, so tensors on a CUDA device make a round trip through the host there).

The protocol both implement (arrays already checked, of the kind ``arrays`` names: "numpy" =
float64 NumPy on the host, "torch" = torch tensors where the caller's live, in their dtype; see
hqsim/backends/__init__.py):

    forward(x (B, n_in), w (n_w,), real_dtype, keep=False, rng=None)
        -> (values (B, n_obs) float64, saved or None)
    vjp(x, w, cotangent (B, n_obs), real_dtype, saved=None, need_weights=True,
        need_inputs=True, rng=None)
        -> (dweights (n_w,) or None, dinputs (B, n_in) or None)    # of sum(cotangent * values)

``keep`` says a backward of this very forward will follow: the forward then returns in
``saved`` what spares work there (the exact path: the final states, when the backend can use
them and they fit in KEEP_STATES_BYTES; the noisy path: its recorded trajectories), and ``vjp``
takes it back. ``need_weights`` / ``need_inputs`` False return None for that gradient (and
spare the work where the method allows: input gradients in the adjoint, shifted circuits in
the parameter-shift rule). ``rng`` is the numpy Generator the noisy path draws its shots,
trajectories and perturbations from; the exact path draws nothing. Inputs are never mutated.

Also here, shared by every entry: the host-side argument checks with the errors users see
(``host_arrays``), the noise keyword options (``noise_settings``) and ``real_dtype_for``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compile import CompiledCircuit
from .ir.validate import check_amplitudes, check_inputs, check_state_fits, check_weights

# The exact path keeps the forward's final states for the backward (one state per sample, no
# tape) when they take at most this much memory; beyond it the backward recomputes the forward.
KEEP_STATES_BYTES = 1 << 30


def real_dtype_for(dtype) -> type:
    """complex64 / float32 → np.float32; complex128 / float64 → np.float64."""
    try:
        name = np.dtype(dtype).name
    except TypeError:  # torch dtypes and other non-numpy spellings
        name = str(dtype).replace("torch.", "")
    if name in ("complex64", "float32", "float16", "bfloat16"):
        return np.float32
    if name in ("complex128", "float64"):
        return np.float64
    raise ValueError(f"dtype must be complex64 or complex128 (or float32 / float64), got {dtype}")


class _CompiledCounts:
    """Sizes every executor answers from its compiled circuit (without scanning the gates)."""

    compiled: CompiledCircuit

    @property
    def source(self):
        return self.compiled.source

    @property
    def num_inputs(self) -> int:
        return self.compiled.program.num_inputs

    @property
    def num_weights(self) -> int:
        return self.compiled.program.num_weights

    @property
    def num_outputs(self) -> int:
        return self.compiled.program.num_observables


@dataclass(frozen=True, eq=False)
class ExactExecutor(_CompiledCounts):
    """``compiled`` run by ``backend`` (an instance from hqsim.backends.get_backend)."""

    compiled: CompiledCircuit
    backend: object

    @property
    def arrays(self) -> str:
        return getattr(self.backend, "arrays", "numpy")

    def _state_bytes(self, batch: int, real_dtype) -> int:
        return batch * 2 ** self.compiled.num_qubits * 2 * np.dtype(real_dtype).itemsize

    def forward(self, x, w, real_dtype, keep: bool = False, rng=None):
        batch = x.shape[0]
        keep_states = (keep and getattr(self.backend, "keeps_states", False)
                       and self._state_bytes(batch, real_dtype) <= KEEP_STATES_BYTES)
        if isinstance(x, np.ndarray):  # host memory: a state per sample and thread, plus kept ones
            check_state_fits(self.compiled.num_qubits, min(batch, 8), np.dtype(real_dtype).itemsize * 2, 6)
        if keep_states and hasattr(self.backend, "forward_kept"):  # kept in the backend's own layout
            return self.backend.forward_kept(self.compiled, x, w, real_dtype)
        return self.backend.forward(self.compiled, x, w, real_dtype, keep_states)

    def states(self, x, w, real_dtype):
        """Final states (B, 2^Q) of the compiled circuit (compile it with optimize=False)."""
        check_state_fits(self.compiled.num_qubits, x.shape[0], np.dtype(real_dtype).itemsize * 2, 1)
        return self.backend.forward(self.compiled, x, w, real_dtype, True)[1]

    def vjp(self, x, w, cotangent, real_dtype, saved=None, need_weights: bool = True,
            need_inputs: bool = True, rng=None):
        extra = {"final_states": saved} if saved is not None else {}
        dw, dx = self.backend.vjp(self.compiled, x, w, cotangent, real_dtype, need_inputs, **extra)
        return (dw if need_weights else None), (dx if need_inputs else None)


@dataclass(frozen=True, eq=False)
class NoisyExecutor(_CompiledCounts):
    """Forward and VJP of ``estimator`` (hqsim.noise.Estimator; see hqsim.noise.estimator for
    the gradient modes), on host arrays."""

    estimator: object
    arrays = "numpy"

    @property
    def compiled(self) -> CompiledCircuit:
        return self.estimator.compiled

    def forward(self, x, w, real_dtype, keep: bool = False, rng=None):
        return self.estimator.forward(x, w, _generator(rng), real_dtype, keep=keep)

    def vjp(self, x, w, cotangent, real_dtype, saved=None, need_weights: bool = True,
            need_inputs: bool = True, rng=None):
        dw, dx = self.estimator.vjp(x, w, cotangent, _generator(rng), real_dtype, need_weights,
                                    need_inputs, saved)
        return (dw if need_weights else None), (dx if need_inputs else None)


def _generator(rng):
    return rng if rng is not None else np.random.default_rng()


def wants_noise(shots=None, seed=None, gradient=None, noise=None, trajectories=None) -> bool:
    """True when any of the noise keyword options is given: the call then takes the noisy path."""
    return any(v is not None for v in (shots, seed, gradient, noise, trajectories))


def _noise():
    # hqsim.noise loads Numba (about 0.5 s): imported on the first noisy call, so that
    # `import hqsim` (the CLI, the compiler) does not pay for it. hqsim.noise never imports this module.
    from . import noise
    return noise


def noise_settings(shots=None, seed=None, gradient=None, noise=None, trajectories=None):
    """(options, rng): (None, None) without noise options (the exact path), else the validated
    hqsim.noise.EstimatorOptions and a numpy Generator from ``seed``."""
    if not wants_noise(shots, seed, gradient, noise, trajectories):
        return None, None
    hq_noise = _noise()
    return hq_noise.make_options(shots, gradient, noise, trajectories), hq_noise.make_rng(seed)


def choose_executor(compiled: CompiledCircuit, backend, options=None):
    """The executor for ``compiled`` on ``backend`` (an instance): exact without ``options``
    (hqsim.noise.EstimatorOptions), else the noisy path's, on one cached Estimator per
    circuit, options and backend."""
    if options is None:
        return ExactExecutor(compiled, backend)
    return NoisyExecutor(_noise().Estimator.cached(compiled, options, backend))


def host_arrays(executor, inputs, weights):
    """(x (B, n_in), w (n_w,)) float64 C-contiguous NumPy from array-likes on the host, checked
    for ``executor``'s circuit: shapes, NaN / inf, all-zero amplitude blocks (the errors every
    entry gives). ``inputs`` None is one sample of zeros. Not mutated; no copy when already so."""
    x = check_inputs(np.zeros((1, executor.num_inputs)) if inputs is None else inputs, executor.num_inputs)
    w = check_weights(weights, executor.num_weights)
    check_amplitudes(x, executor.source)
    return np.ascontiguousarray(x, np.float64), np.ascontiguousarray(w, np.float64)


def check_cotangent_shape(shape, batch: int, num_outputs: int) -> None:
    if tuple(shape) != (batch, num_outputs):
        raise ValueError(f"cotangent must have shape {(batch, num_outputs)}, got {tuple(shape)}")
