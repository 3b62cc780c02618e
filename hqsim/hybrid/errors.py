"""Errors of the hybrid-program optimizer, each carrying a source location where one is known."""
from __future__ import annotations


class HybridError(Exception):
    """Base class of every error raised by ``hqsim.hybrid``."""


class HybridSyntaxError(HybridError):
    """Malformed or unsupported source: ``file:line:column: message`` (line and column from 1)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 filename: str | None = None):
        self.message, self.line, self.column, self.filename = message, line, column, filename
        super().__init__(self.format())

    def format(self) -> str:
        where = self.filename or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: error: {self.message}"

    def with_filename(self, filename: str) -> "HybridSyntaxError":
        return type(self)(self.message, self.line, self.column, filename)


class UnsupportedConstruct(HybridSyntaxError):
    """A construct the front end parses but the optimizer does not model (names the construct)."""


class ProgramError(HybridError):
    """An ill-formed IR program (unknown variable, qubit out of range, missing label...).
    ``loc``: the (line, column) of the offending source statement, when known."""

    loc = None


class HybridRuntimeError(HybridError):
    """A failure while interpreting a program (division by zero, index out of range, step
    limit). ``loc``: the (line, column) of the source statement that failed, when known."""

    loc = None


class StepLimit(HybridRuntimeError):
    """A run that did not halt within ``max_steps`` interpreter steps."""

    def __init__(self, max_steps: int):
        self.max_steps = max_steps
        super().__init__(f"program did not halt within {max_steps} steps")


class EmitError(HybridError):
    """The program cannot be printed in the requested language (names what is not expressible)."""


class MissingDependencyError(HybridError, ImportError):
    """An optional dependency (``openqasm3[parser]`` or ``quil``) is not installed."""
