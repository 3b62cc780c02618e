"""The QLLM experiment: SST-2 protocol, embedding cache, baselines, training, reports, sweeps.

Heavy and optional dependencies (sentence-transformers, scikit-learn, setfit, ray) are imported
inside the modules that need them, one module each, never at package import."""
