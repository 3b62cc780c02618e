"""Gate-angle expressions: a constant, a trainable weight, a per-sample input, or an affine map of one.

An angle is ``scale * value + offset`` where ``value`` is 1 (a constant), ``weights[index]``
or ``inputs[b, index]``. Sums of two different symbols are not representable on purpose: the
kernels compute every angle on the fly from one slot and two coefficients.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

CONST, WEIGHT, INPUT = 0, 1, 2
_SOURCE_NAMES = {CONST: "const", WEIGHT: "weight", INPUT: "input"}


@dataclass(frozen=True)
class Param:
    """``scale * source[index] + offset``; ``source`` is CONST, WEIGHT or INPUT."""

    source: int
    index: int = 0
    scale: float = 1.0
    offset: float = 0.0

    def __post_init__(self):
        if self.source not in _SOURCE_NAMES:
            raise ValueError(f"Param.source must be CONST, WEIGHT or INPUT, got {self.source!r}")
        if self.source != CONST and (not isinstance(self.index, int) or self.index < 0):
            raise ValueError(f"Param.index must be a non-negative int, got {self.index!r}")
        for name in ("scale", "offset"):
            v = getattr(self, name)
            if not math.isfinite(v):
                raise ValueError(f"Param.{name} must be finite, got {v!r}")

    # -- arithmetic: affine maps of one symbol only -------------------------------------
    def __mul__(self, other):
        if not isinstance(other, Real):
            return NotImplemented
        other = float(other)
        return Param(self.source, self.index, self.scale * other, self.offset * other)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if not isinstance(other, Real):
            return NotImplemented
        return self * (1.0 / float(other))

    def __neg__(self):
        return self * -1.0

    def __add__(self, other):
        if isinstance(other, Real):
            return Param(self.source, self.index, self.scale, self.offset + float(other))
        if isinstance(other, Param):
            if other.is_constant:
                return self + other.offset
            if self.is_constant:
                return other + self.offset
            if (other.source, other.index) == (self.source, self.index):
                return Param(self.source, self.index, self.scale + other.scale,
                             self.offset + other.offset)
            raise ValueError(
                f"cannot add {self} and {other}: an angle may depend on at most one weight "
                "or input (use two gates instead)")
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    # -- queries ------------------------------------------------------------------------
    @property
    def is_constant(self) -> bool:
        return self.source == CONST or self.scale == 0.0

    @property
    def is_trainable(self) -> bool:
        return self.source == WEIGHT and self.scale != 0.0

    @property
    def is_input(self) -> bool:
        return self.source == INPUT and self.scale != 0.0

    def value(self, weights=None, inputs=None) -> float:
        """Evaluate for one sample: ``weights`` (n_weights,), ``inputs`` (n_inputs,)."""
        if self.is_constant:
            return self.offset
        table = weights if self.source == WEIGHT else inputs
        return self.scale * float(table[self.index]) + self.offset

    def __repr__(self):
        if self.is_constant:
            return f"{self.offset:g}"
        sym = f"{_SOURCE_NAMES[self.source]}({self.index})"
        s = sym if self.scale == 1.0 else f"{self.scale:g}*{sym}"
        return s if self.offset == 0.0 else f"{s}{self.offset:+g}"


def as_index(value, what: str) -> int:
    """``value`` as an int index (Python or numpy integer); a float such as 1.7 or 1.0, a bool or
    anything else is a TypeError naming ``what``, never truncated."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{what} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def const(value: float) -> Param:
    return Param(CONST, 0, 0.0, float(value))


def weight(index: int) -> Param:
    """The trainable weight ``weights[index]``."""
    return Param(WEIGHT, as_index(index, "weight index"))


def input(index: int) -> Param:  # noqa: A001 - mirrors the paper's notation
    """The per-sample input ``inputs[b, index]``."""
    return Param(INPUT, as_index(index, "input index"))


def as_param(value) -> Param:
    """Coerce a number or Param into a Param, rejecting NaN/inf and other types."""
    if isinstance(value, Param):
        return value
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"a gate angle must be a number or hqsim Param, got {type(value).__name__}")
    if not math.isfinite(float(value)):
        raise ValueError(f"a gate angle must be finite, got {value!r}")
    return const(float(value))
