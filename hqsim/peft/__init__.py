"""Parameter-efficient fine-tuning of transformers with quantum and quantum-inspired adapters.

- QTHA (Kong et al., arXiv 2503.12790): a frozen linear layer plus a linear fusion of a
  matrix-product-operator path and a QNN path (input projected down, angle-encoded into a small
  PQC run by ``hqsim.QuantumLayer`` on every token at once, ⟨Z⟩ read out, projected up).
- QPA (Liu et al., arXiv 2410.09846): a QNN and a small MLP generate the LoRA matrices.
- QuanTA (Chen et al., arXiv 2406.00132): a product of small tensors on pairs of axes of the
  reshaped hidden dimension; no circuit.
- Baselines: LoRA through the ``peft`` library, full fine-tuning, the frozen model with a head.

``inject_adapters(model, QTHAConfig(target_modules=("query", "value")))`` works on any torch
model; ``build_classifier`` wraps a local transformers model as a sentence classifier.
``transformers`` and ``peft`` are imported only by this package (``hqsim.peft._deps``), and only
when a model is built.
"""
from .adapters import AdapterLinear, QTHALinear, QuanTALinear
from .classifier import SentenceClassifier, build_classifier, load_pretrained
from .inject import (adapter_state_dict, adapters, count_trainable, inject_adapters,
                     load_adapter_state_dict, merge_adapters)
from .options import (METHODS, QUANTUM_METHODS, FullConfig, HeadConfig, LoRAConfig, QPAConfig,
                      QTHAConfig, QuanTAConfig, from_dict)
from .qpa import QPAGenerator, QPALinear
from .targets import find_targets

__all__ = [
    "AdapterLinear", "QTHALinear", "QuanTALinear", "QPAGenerator", "QPALinear", "SentenceClassifier",
    "build_classifier", "load_pretrained", "adapter_state_dict", "adapters", "count_trainable",
    "inject_adapters", "load_adapter_state_dict", "merge_adapters", "METHODS", "QUANTUM_METHODS",
    "FullConfig", "HeadConfig", "LoRAConfig", "QPAConfig", "QTHAConfig", "QuanTAConfig", "from_dict",
    "find_targets",
]
