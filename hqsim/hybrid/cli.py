"""``hqsim compile``: optimize a hybrid program and report QIN, QCT and wall time per pass.

Only argparse is imported at registration; the optimizer loads when the command runs.
Exit status: 0 success, 1 the program cannot be emitted or run, 2 malformed input or usage.
"""
from __future__ import annotations

import argparse
import sys

PASS_NAMES = ("fold", "unroll", "dce", "reorder", "lpqe")
COST_MODEL_NAMES = ("unit", "ionq", "google")
_EPILOG = """\
passes (run in the order given; fold, unroll and dce repeat together until nothing changes):
  fold     constant propagation and folding of classical values and of qubit Pauli
           eigenstates, rotation merging, branch folding
  unroll   unroll loops whose trip count is constant (limit: --max-unroll)
  dce      liveness-based dead-code elimination: dead classical code, gates outside every
           measured qubit's light cone, unused qubits
  reorder  reorder instructions so CPU and QPU work overlap (shorter wall time)
  lpqe     latest-possible quantum execution: QPU-independent classical work first,
           quantum work as late as possible (shorter QCT)
levels: -O0 none, -O1 fold,dce, -O2 fold,unroll,dce,reorder,lpqe (default)

metrics (means over --shots seeded runs of the interpreter):
  QIN   executed quantum + hybrid instructions
  QCT   quantum calculation time: first to last hybrid instruction, plus the quantum
        instructions before the first and after the last
  wall  wall time with CPU and QPU in parallel, synchronising at hybrid instructions
  measured ms   median time of one interpreted shot on hqsim's statevector
cost models: unit (every instruction 1), ionq, google (illustrative microseconds)

exit status: 0 ok, 1 cannot emit or run the program, 2 malformed input or bad usage
"""


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "compile", help="optimize a hybrid quantum-classical program (OpenQASM 3 or Quil)",
        description="Optimize a hybrid quantum-classical program and print it, with a "
                    "before/after table of QIN, QCT and wall time per pass.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("program", metavar="PROGRAM", help="source file: .qasm (OpenQASM 3) or .quil")
    level = p.add_mutually_exclusive_group()
    level.add_argument("--passes", metavar="LIST",
                       help=f"comma-separated passes to run, from: {','.join(PASS_NAMES)}")
    level.add_argument("-O", dest="opt_level", type=int, choices=(0, 1, 2), metavar="{0,1,2}",
                       help="optimization level -O0, -O1 or -O2 (default -O2)")
    p.add_argument("--emit", choices=("qasm", "quil"),
                   help="language of the printed program (default: the input's)")
    p.add_argument("-o", dest="output", metavar="OUT",
                   help="write the program to OUT (the report then goes to stdout, else stderr)")
    p.add_argument("--report", choices=("text", "json"), default="text",
                   help="format of the metrics table (default text)")
    p.add_argument("--cost-model", choices=COST_MODEL_NAMES, default="unit", metavar="NAME",
                   help=f"instruction durations: {', '.join(COST_MODEL_NAMES)} (default unit)")
    p.add_argument("--input", action="append", default=[], metavar="NAME=VALUE",
                   help="value of a program input (repeatable; arrays as comma-separated "
                        "numbers); inputs not given are 0")
    p.add_argument("--shots", type=int, default=8, help="runs per metrics row (default 8)")
    p.add_argument("--seed", type=int, default=0, help="measurement sampling seed (default 0)")
    p.add_argument("--max-unroll", type=int, default=64, metavar="N",
                   help="largest trip count the unroll pass unrolls (default 64)")
    p.set_defaults(func=run_compile)
    return p


def _fail(message: str, status: int) -> int:
    print(message, file=sys.stderr)
    return status


def _parse_inputs(items, program):
    values = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--input expects NAME=VALUE, got {item!r}")
        if name not in program.inputs:
            raise ValueError(f"--input {name}: the program's inputs are {list(program.inputs) or 'none'}")
        nums = [float(x) for x in text.split(",")]
        values[name] = nums if program.var_map[name].size is not None else nums[0]
    return values


def run_compile(args) -> int:
    import json
    import os

    from .errors import EmitError, HybridError, HybridSyntaxError
    from .pipeline import OPT_LEVELS, PipelineOptions, run_pipeline
    from .passes.unroll import UnrollOptions
    from .report import build_report, format_text, to_json

    ext = os.path.splitext(args.program)[1].lower()
    if ext not in (".qasm", ".quil"):
        return _fail(f"{args.program}: error: unknown language (expected a .qasm or .quil file)", 2)
    try:
        with open(args.program, encoding="utf-8") as fh:
            source = fh.read()
    except OSError as exc:
        return _fail(f"{args.program}: error: {exc.strerror or exc}", 2)
    try:
        if ext == ".qasm":
            from .frontends.qasm import parse_qasm_program as parse
        else:
            from .frontends.quil import parse_quil_program as parse
        name = os.path.splitext(os.path.basename(args.program))[0]
        program = parse(source, args.program, name)
    except HybridSyntaxError as exc:
        return _fail(exc.format(), 2)
    except HybridError as exc:
        return _fail(f"{args.program}: error: {exc}", 2)
    if args.passes is not None:
        passes = tuple(p.strip() for p in args.passes.split(",") if p.strip())
        bad = [p for p in passes if p not in PASS_NAMES]
        if bad:
            return _fail(f"error: unknown pass(es) {', '.join(bad)}; choose from {', '.join(PASS_NAMES)}", 2)
    else:
        passes = OPT_LEVELS[2 if args.opt_level is None else args.opt_level]
    if args.shots < 1 or args.max_unroll < 0:
        return _fail("error: --shots must be >= 1 and --max-unroll >= 0", 2)
    try:
        inputs = _parse_inputs(args.input, program)
    except ValueError as exc:
        return _fail(f"error: {exc}", 2)
    options = PipelineOptions(passes=passes, unroll=UnrollOptions(max_iterations=args.max_unroll))
    try:
        result = run_pipeline(program, options)
        emit = args.emit or ext[1:]
        if emit == "qasm":
            from .printers.qasm import print_qasm as printer
        else:
            from .printers.quil import print_quil as printer
        text = printer(result.program)
        report = build_report(name, program, result, passes, inputs=inputs,
                              cost_model=args.cost_model, shots=args.shots, seed=args.seed)
    except EmitError as exc:
        return _fail(f"{args.program}: error: cannot emit {args.emit or ext[1:]}: {exc}", 1)
    except HybridError as exc:
        return _fail(f"{args.program}: error: {exc}", 1)
    rendered = (json.dumps(to_json(report), indent=2) + "\n" if args.report == "json"
                else format_text(report))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
        sys.stdout.write(rendered)
    else:
        sys.stdout.write(text)
        sys.stderr.write(rendered)
    return 0
