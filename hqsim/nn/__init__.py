"""torch modules: QuantumLayer."""
from .layer import QuantumLayer

__all__ = ["QuantumLayer"]
