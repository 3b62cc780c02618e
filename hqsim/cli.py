"""The ``hqsim`` command. Each subcommand lives in its own module with a ``register(subparsers)``
function that adds its parser and sets ``func``; heavy imports happen inside ``func`` only.

No command ends in a Python traceback: a subcommand reports the errors it knows (exit 2), and
``main`` turns anything else into a one-paragraph message naming the input file and asking for
a report, with the traceback saved to a file (exit 3; ``HQSIM_TRACEBACK=1`` re-raises)."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import traceback

# subcommand -> module defining register(subparsers)
SUBCOMMANDS = {
    "compile": "hqsim.hybrid.cli",
    "export": "hqsim.interop.cli",
    "train": "hqsim.experiments.cli",
    "finetune": "hqsim.experiments.finetune_cli",
    "sweep": "hqsim.experiments.sweep_cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hqsim",
        description="hqsim: fast batched simulation and adjoint gradients for hybrid "
                    "quantum-classical machine learning.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in SUBCOMMANDS.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("hqsim"):
                continue  # subcommand not built in this version
            raise
        mod.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence, see the module docstring
        if os.environ.get("HQSIM_TRACEBACK"):
            raise
        return report_internal_error(args, exc)


# argument names that hold a subcommand's main input file, in the order they are looked for
INPUT_ARGUMENTS = ("program", "model", "data", "config")
INTERNAL_ERROR = 3


def report_internal_error(args, exc: BaseException) -> int:
    """Print what failed, on which input, and where the traceback went; returns exit code 3."""
    command = getattr(args, "command", None) or "hqsim"
    inputs = next((getattr(args, a) for a in INPUT_ARGUMENTS if getattr(args, a, None)), None)
    on = f" on {' '.join(map(str, inputs)) if isinstance(inputs, list) else inputs}" if inputs else ""
    where = ""
    try:
        fd, path = tempfile.mkstemp(prefix=f"hqsim-{command}-error-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"hqsim {' '.join(sys.argv[1:])}\n\n")
            traceback.print_exception(exc, file=fh)
        where = f"; the traceback is in {path}"
    except OSError:
        pass
    what = str(exc) if len(str(exc)) <= 300 else str(exc)[:297] + "..."
    print(f"hqsim {command}: internal error{on}: {type(exc).__name__}: {what}\n"
          f"This is a bug in hqsim, not in your input: please report it with the input file and the "
          f"command line{where} (set HQSIM_TRACEBACK=1 to see it here).", file=sys.stderr)
    return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
