"""Hybrid quantum-classical models built on ``hqsim.QuantumLayer``."""
from .qllm import QLLMClassifier, QLLMConfig, count_parameters, qpu_circuit

__all__ = ["QLLMClassifier", "QLLMConfig", "count_parameters", "qpu_circuit"]
