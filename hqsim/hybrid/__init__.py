"""Hybrid quantum-classical program optimizer (Remme et al., "Optimization of Hybrid
Quantum-Classical Algorithms"), laid out by role:

- top level: the IR (``ir``, ``exprs``, ``wellformed``, ``errors``), its interpreter on hqsim
  (``interpreter``, ``distribution``), metrics (``metrics``, ``costs``, ``report``), the pass
  manager (``pipeline``) and the ``hqsim compile`` command (``cli``);
- ``frontends/``: OpenQASM 3, Quil and the Python builder -> IR;
- ``analyses/``: facts about a program (CFG, constants and qubit Pauli states, liveness,
  dependences), computed and never changing it;
- ``passes/``: transformations (program in, program out);
- ``printers/``: IR -> OpenQASM 3, Quil, or a plain-text dump.

Public API (loaded lazily so that ``hqsim compile --help`` stays fast)::

    from hqsim.hybrid import parse_qasm_program, optimize, print_qasm, run, compute_metrics
    program = parse_qasm_program(open("vqe.qasm").read(), "vqe.qasm")
    better = optimize(program, level=2)
"""
from __future__ import annotations

import importlib

_API = {
    # the IR, its checks and its interpreter
    "Program": "ir", "Block": "ir", "VarDecl": "ir", "ScalarType": "ir", "Role": "ir",
    "Assign": "ir", "GateOp": "ir", "Measure": "ir", "Reset": "ir", "Jump": "ir",
    "Branch": "ir", "Halt": "ir", "Const": "ir", "Ref": "ir", "Kind": "ir",
    "validate": "wellformed", "run": "interpreter", "sample_outputs": "interpreter",
    "output_distribution": "distribution", "total_variation": "distribution",
    # front ends and printers
    "ProgramBuilder": "frontends.builder", "from_circuit": "frontends.circuits",
    "parse_qasm_program": "frontends.qasm", "parse_quil_program": "frontends.quil",
    "print_qasm": "printers.qasm", "print_quil": "printers.quil", "dump": "printers.dump",
    # analyses
    "compute_cfg": "analyses.cfg", "compute_constants": "analyses.constants",
    "compute_liveness": "analyses.liveness", "compute_dependences": "analyses.dependences",
    # passes and the pass manager
    "fold_constants": "passes.fold", "FoldOptions": "passes.fold",
    "eliminate_dead_code": "passes.dce", "DceOptions": "passes.dce",
    "unroll_loops": "passes.unroll", "UnrollOptions": "passes.unroll",
    "fold_branches": "passes.simplify_cfg", "simplify_cfg": "passes.simplify_cfg",
    "remove_unreachable": "passes.simplify_cfg",
    "reorder_instructions": "passes.schedule", "reorder_latest_quantum": "passes.schedule",
    "ReorderOptions": "passes.schedule",
    "run_pipeline": "pipeline", "optimize": "pipeline", "PipelineOptions": "pipeline",
    "PASSES": "pipeline", "OPT_LEVELS": "pipeline",
    # metrics
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
