"""Cost models: how long each kind of instruction takes (used by metrics and by ``reorder``).

``unit`` is the paper's model: every instruction one time unit (an unconditional jump, which
only exists because structured code was lowered to blocks, costs nothing). The device models
are illustrative round numbers in microseconds, not calibration data:

- ``ionq``: trapped ions (IonQ Aria-like): 1q gate 135, 2q gate 600, measure 300, reset 50;
- ``google``: superconducting (Sycamore-like): 1q 0.025, 2q 0.032, measure 0.5, reset 0.25;

with classical instructions at 0.01 (a real-time controller) and a branch at 0.02.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CostModel:
    name: str
    gate1: float = 1.0
    gate2: float = 1.0
    gate3: float = 1.0
    measure: float = 1.0
    reset: float = 1.0
    classical: float = 1.0
    branch: float = 1.0
    jump: float = 0.0
    unit: str = "unit"

    def cost(self, category: str) -> float:
        return getattr(self, category)

    def gate_cost(self, num_qubits: int) -> float:
        return (self.gate1, self.gate2, self.gate3)[min(num_qubits, 3) - 1]


COST_MODELS = {
    "unit": CostModel("unit"),
    "ionq": CostModel("ionq", gate1=135.0, gate2=600.0, gate3=1800.0, measure=300.0, reset=50.0,
                      classical=0.01, branch=0.02, jump=0.0, unit="us"),
    "google": CostModel("google", gate1=0.025, gate2=0.032, gate3=0.2, measure=0.5, reset=0.25,
                        classical=0.01, branch=0.02, jump=0.0, unit="us"),
}


def get_cost_model(name: str | CostModel) -> CostModel:
    if isinstance(name, CostModel):
        return name
    try:
        return COST_MODELS[name]
    except KeyError:
        raise ValueError(f"unknown cost model {name!r}; choose one of {', '.join(COST_MODELS)}") from None
