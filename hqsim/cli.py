"""The ``hqsim`` command. Each subcommand lives in its own module with a ``register(subparsers)``
function that adds its parser and sets ``func``; heavy imports happen inside ``func`` only."""
from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> module defining register(subparsers)
SUBCOMMANDS = {
    "compile": "hqsim.hybrid.cli",
    "export": "hqsim.interop.cli",
    "train": "hqsim.experiments.cli",
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


if __name__ == "__main__":
    sys.exit(main())
