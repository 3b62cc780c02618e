"""``hqsim compile``: optimize a hybrid program and report QIN, QCT and wall time per pass.

Registration imports only argparse and the pass declaration (hqsim/hybrid/pipeline.py, whose
pass modules load when a pipeline runs); the optimizer loads when the command runs. The pass
choices and the passes part of --help come from that declaration.
Exit status: 0 success, 1 the program cannot be emitted in the asked language, 2 malformed
input or usage (including errors found while running it for the metrics); an unexpected
failure is reported by ``hqsim.cli.main`` (exit 3), never as a traceback.
"""
from __future__ import annotations

import argparse
import math
import sys
import textwrap

from .pipeline import OPT_LEVELS, PASSES

COST_MODEL_NAMES = ("unit", "ionq", "google")


def _levels_line() -> str:
    return "levels: " + ", ".join(f"-O{k} {','.join(v) or 'none'}" for k, v in OPT_LEVELS.items()) \
        + f" (default -O{max(OPT_LEVELS)})"


def _epilog() -> str:
    """The passes part comes from the declaration in hqsim/hybrid/pipeline.py."""
    width = max(len(n) for n in PASSES) + 2
    lines = ["passes (run in the order given; "
             + ", ".join(n for n, s in PASSES.items() if s.simplifying)
             + " repeat together until nothing changes):"]
    for name, spec in PASSES.items():
        wrapped = textwrap.wrap(spec.help, 88 - width - 2)
        lines.append(f"  {name:<{width}}{wrapped[0]}")
        lines += [" " * (width + 2) + more for more in wrapped[1:]]
    return "\n".join(lines + [_levels_line(), _EPILOG_REST])


_EPILOG_REST = """
metrics (means over --shots seeded runs of the interpreter):
  QIN   executed quantum + hybrid instructions
  QCT   quantum calculation time: first to last hybrid instruction, plus the quantum
        instructions before the first and after the last
  wall  wall time with CPU and QPU in parallel, synchronising at hybrid instructions
  measured ms   median time of one interpreted shot on hqsim's statevector
cost models: unit (every instruction 1), ionq, google (illustrative microseconds)

exit status: 0 ok, 1 cannot emit the program in the asked language, 2 malformed input,
bad usage or an error while running the program; 3 an internal error (please report it)
"""


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "compile", help="optimize a hybrid quantum-classical program (OpenQASM 3 or Quil)",
        description="Optimize a hybrid quantum-classical program and print it, with a "
                    "before/after table of QIN, QCT and wall time per pass.",
        epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("program", metavar="PROGRAM", help="source file: .qasm (OpenQASM 3) or .quil")
    level = p.add_mutually_exclusive_group()
    level.add_argument("--passes", metavar="LIST",
                       help=f"comma-separated passes to run, from: {','.join(PASSES)}")
    level.add_argument("-O", dest="opt_level", type=int, choices=tuple(OPT_LEVELS),
                       metavar="{" + ",".join(map(str, OPT_LEVELS)) + "}",
                       help=f"optimization level (default -O{max(OPT_LEVELS)}; see levels below)")
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
    p.add_argument("--shots", type=_bounded_int(1, MAX_SHOTS), default=8,
                   help=f"runs per metrics row, 1..{MAX_SHOTS:,} (default 8)")
    p.add_argument("--seed", type=_bounded_int(0, 2**63 - 1), default=0,
                   help="measurement sampling seed (default 0)")
    p.add_argument("--max-unroll", type=_bounded_int(0, 10**9), default=64, metavar="N",
                   help="largest trip count the unroll pass unrolls (default 64)")
    p.set_defaults(func=run_compile)
    return p


class _Fail(Exception):
    """A known failure: its message (already formatted) and exit status."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def _fail(message: str, status: int) -> int:
    print(message, file=sys.stderr)
    return status


MAX_SHOTS = 10_000  # metrics runs per row; the step budget (limits.METRIC_STEPS) also applies


def _bounded_int(lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be in {lo:,}..{hi:,}, got {text}")
        return v
    return parse


def _parse_inputs(items, program):
    values = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--input expects NAME=VALUE, got {item!r}")
        if name not in program.inputs:
            raise ValueError(f"--input {name}: the program's inputs are {list(program.inputs) or 'none'}")
        try:
            nums = [float(x) for x in text.split(",")]
        except ValueError:
            raise ValueError(f"--input {name}: {text!r} is not a number or a comma-separated list "
                             "of numbers") from None
        if not all(math.isfinite(v) for v in nums):
            raise ValueError(f"--input {name}: values must be finite, got {text!r}")
        size = program.var_map[name].size
        if len(nums) != (size or 1):
            raise ValueError(f"--input {name}: needs {size or 1} value(s), got {len(nums)}")
        values[name] = nums if size is not None else nums[0]
    return values


def run_compile(args) -> int:
    """The command: every known failure is a message and exit 1 (cannot emit) or 2; the whole
    compilation runs under ``limits.run_deep`` so deep nesting is an error, not a crash."""
    from ..outputs import OutputError, atomic_write, check_output_path
    from .errors import HybridError
    from .limits import run_deep
    try:
        target = check_output_path(args.output) if args.output else None
        text, rendered = run_deep(_compile, args)
        if target is not None:
            atomic_write(target, text)
    except _Fail as exc:
        return _fail(str(exc), exc.status)
    except OutputError as exc:
        return _fail(f"error: {exc}", 2)
    except HybridError as exc:  # raised outside a stage that names the file (e.g. nesting)
        return _fail(f"{args.program}: error: {exc}", 2)
    except MemoryError:
        return _fail(f"{args.program}: error: not enough memory to compile this program", 2)
    if target is not None:
        sys.stdout.write(rendered)
    else:
        sys.stdout.write(text)
        sys.stderr.write(rendered)
    return 0


def _read(args):
    """(Program, name, input language) of the source file; _Fail on any known problem."""
    import os

    from .errors import HybridError, HybridSyntaxError
    ext = os.path.splitext(args.program)[1].lower()
    if ext not in (".qasm", ".quil"):
        raise _Fail(f"{args.program}: error: unknown language (expected a .qasm or .quil file)")
    try:
        with open(args.program, encoding="utf-8") as fh:
            source = fh.read()
    except OSError as exc:
        raise _Fail(f"{args.program}: error: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise _Fail(f"{args.program}: error: not UTF-8 text (byte {exc.start})") from None
    try:
        if ext == ".qasm":
            from .frontends.qasm import parse_qasm_program as parse
        else:
            from .frontends.quil import parse_quil_program as parse
        name = os.path.splitext(os.path.basename(args.program))[0]
        return parse(source, args.program, name), name, ext[1:]
    except HybridSyntaxError as exc:
        raise _Fail(exc.format()) from None
    except HybridError as exc:
        raise _Fail(f"{_where(args.program, exc)}: error: {exc}") from None


def _where(path: str, exc) -> str:
    """``path:line:col`` when the error knows its source statement, else ``path``."""
    loc = getattr(exc, "loc", None)
    return f"{path}:{loc[0]}:{loc[1]}" if loc else path


class _Progress:
    """Prints where a long metrics simulation is, to stderr: first after 2 s, then every 5 s."""

    def __init__(self, first: float = 2.0, every: float = 5.0):
        import time
        self.clock = time.monotonic
        self.next, self.every = self.clock() + first, every

    def __call__(self, what: str, steps: int) -> None:
        if self.clock() >= self.next:
            self.next = self.clock() + self.every
            print(f"hqsim compile: simulating for the metrics, {what}: {steps:,} interpreter steps "
                  "so far (Ctrl-C stops)", file=sys.stderr, flush=True)


def _options(args, program):
    """(pass names, {input: value}) from the command line; _Fail on bad usage."""
    if args.passes is not None:
        passes = tuple(p.strip() for p in args.passes.split(",") if p.strip())
    else:
        passes = OPT_LEVELS[max(OPT_LEVELS) if args.opt_level is None else args.opt_level]
    try:
        return passes, _parse_inputs(args.input, program)
    except ValueError as exc:
        raise _Fail(f"error: {exc}") from None


def _compile(args) -> tuple[str, str]:
    """(printed program, rendered report) of the command's source file."""
    import json

    from .errors import EmitError, HybridError
    from .passes.unroll import UnrollOptions
    from .pipeline import PipelineOptions, run_pipeline
    from .report import build_report, format_text, to_json

    program, name, lang = _read(args)
    passes, inputs = _options(args, program)
    try:  # the one validation of pass names (hqsim/hybrid/pipeline.py)
        options = PipelineOptions(passes=passes, unroll=UnrollOptions(max_iterations=args.max_unroll))
    except ValueError as exc:
        raise _Fail(f"error: {exc}") from None
    emit = args.emit or lang
    try:
        result = run_pipeline(program, options)
        if emit == "qasm":
            from .printers.qasm import print_qasm as printer
        else:
            from .printers.quil import print_quil as printer
        text = printer(result.program)
        report = build_report(name, program, result, passes, inputs=inputs,
                              cost_model=args.cost_model, shots=args.shots, seed=args.seed,
                              progress=_Progress())
    except EmitError as exc:
        raise _Fail(f"{args.program}: error: cannot emit {emit}: {exc}", 1) from None
    except HybridError as exc:
        raise _Fail(f"{_where(args.program, exc)}: error: {exc}") from None
    rendered = (json.dumps(to_json(report), indent=2) + "\n" if args.report == "json"
                else format_text(report))
    return text, rendered
