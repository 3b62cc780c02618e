"""Hybrid quantum-classical program optimizer (Remme et al., "Optimization of Hybrid
Quantum-Classical Algorithms"): IR, OpenQASM 3 / Quil / Python front ends, printers, analyses,
passes, a pass manager, metrics (QIN, QCT, wall time) and an interpreter on hqsim.

Public API (loaded lazily so that ``hqsim compile --help`` stays fast)::

    from hqsim.hybrid import parse_qasm_program, optimize, print_qasm, run, compute_metrics
    program = parse_qasm_program(open("vqe.qasm").read(), "vqe.qasm")
    better = optimize(program, level=2)
"""
from __future__ import annotations

import importlib

_API = {
    "Program": "ir", "Block": "ir", "VarDecl": "ir", "ScalarType": "ir", "Role": "ir",
    "Assign": "ir", "GateOp": "ir", "Measure": "ir", "Reset": "ir", "Jump": "ir",
    "Branch": "ir", "Halt": "ir", "Const": "ir", "Ref": "ir", "Kind": "ir",
    "ProgramBuilder": "builder", "validate": "wellformed", "from_circuit": "circuits",
    "parse_qasm_program": "qasm_frontend", "parse_quil_program": "quil_frontend",
    "print_qasm": "qasm_printer", "print_quil": "quil_printer",
    "compute_cfg": "cfg", "compute_constants": "constants", "compute_liveness": "liveness",
    "compute_dependences": "dependence",
    "fold_constants": "passes.fold", "FoldOptions": "passes.fold",
    "eliminate_dead_code": "passes.dce", "DceOptions": "passes.dce",
    "unroll_loops": "passes.unroll", "UnrollOptions": "passes.unroll",
    "fold_branches": "passes.simplify_cfg", "simplify_cfg": "passes.simplify_cfg",
    "reorder_instructions": "passes.schedule", "reorder_latest_quantum": "passes.schedule",
    "ReorderOptions": "passes.schedule",
    "run_pipeline": "pipeline", "optimize": "pipeline", "PipelineOptions": "pipeline",
    "PASSES": "pipeline", "OPT_LEVELS": "pipeline",
    "run": "interpreter", "sample_outputs": "interpreter",
    "output_distribution": "distribution", "total_variation": "distribution",
    "compute_metrics": "metrics", "Metrics": "metrics", "CostModel": "costs",
    "COST_MODELS": "costs",
    "HybridError": "errors", "HybridSyntaxError": "errors", "UnsupportedConstruct": "errors",
    "ProgramError": "errors", "HybridRuntimeError": "errors", "EmitError": "errors",
    "MissingDependencyError": "errors",
}


def __getattr__(name):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'hqsim.hybrid' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = sorted(_API)
