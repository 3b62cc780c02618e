"""The only module that imports the optional front-end dependencies (``hqsim[hybrid]``).

- ``openqasm3[parser]`` 1.0.1: ``parse_qasm(source)`` returns ``(ast module, Program node)``;
  syntax errors become ``HybridSyntaxError`` with line and column (the stock
  ``openqasm3.parse`` raises an exception with an empty message and prints ANTLR diagnostics).
- ``quil`` 0.37.2: ``quil_program_class()`` returns ``quil.program.Program`` and
  ``quil_parse_error()`` the exception class its parser raises.
"""
from __future__ import annotations

import re

from ..errors import HybridSyntaxError, MissingDependencyError

_QASM_HINT = "pip install 'openqasm3[parser]==1.0.1'  (or: pip install 'hqsim[hybrid]')"
_QUIL_HINT = "pip install 'quil==0.37.2'  (or: pip install 'hqsim[hybrid]')"


def _openqasm3():
    try:
        from antlr4 import CommonTokenStream, InputStream
        from antlr4.error.ErrorListener import ErrorListener
        from openqasm3 import ast
        from openqasm3.parser import QASMNodeVisitor, qasm3Lexer, qasm3Parser
    except ImportError as exc:
        raise MissingDependencyError(
            f"reading OpenQASM 3 needs the openqasm3 reference parser ({exc}); {_QASM_HINT}") from exc
    return ast, CommonTokenStream, InputStream, ErrorListener, QASMNodeVisitor, qasm3Lexer, qasm3Parser


def parse_qasm(source: str):
    """Parse OpenQASM 3 text into the reference AST; raise ``HybridSyntaxError`` on errors."""
    ast, CommonTokenStream, InputStream, ErrorListener, Visitor, Lexer, Parser = _openqasm3()

    class _Raise(ErrorListener):
        def syntaxError(self, recognizer, offendingSymbol, line, column, msg, e):  # noqa: N802
            raise HybridSyntaxError(f"syntax error: {msg}", line, column + 1)

    lexer = Lexer(InputStream(source))
    lexer.removeErrorListeners()
    lexer.addErrorListener(_Raise())
    parser = Parser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(_Raise())
    tree = parser.program()
    if tree.stop is None:  # no token at all (empty, or only comments): the visitor cannot span it
        return ast, ast.Program(statements=[])
    try:
        return ast, Visitor().visitProgram(tree)
    except Exception as exc:  # the visitor's own checks ("'break' statement outside loop")
        m = re.match(r"L(\d+):C(\d+): (.*)", str(exc))
        if type(exc).__name__ != "QASM3ParsingError" or not m:
            raise
        raise HybridSyntaxError(m.group(3), int(m.group(1)), int(m.group(2)) + 1) from None


def quil_program_class():
    try:
        from quil.program import Program
    except ImportError as exc:
        raise MissingDependencyError(f"reading Quil needs the quil package ({exc}); {_QUIL_HINT}") from exc
    return Program


_QUIL_POS = re.compile(r"at line (\d+), column (\d+)")


def parse_quil_line(text: str):
    """Parse Quil text with the ``quil`` package; errors become ``HybridSyntaxError`` (line and
    column relative to ``text``, from the parser's message)."""
    program_cls = quil_program_class()
    try:
        return program_cls.parse(text)
    except Exception as exc:  # quil raises quil.program.ProgramError (not a ValueError)
        if type(exc).__module__.split(".")[0] != "quil":
            raise
        msg = str(exc)
        m = _QUIL_POS.search(msg)
        line, col = (int(m.group(1)), int(m.group(2))) if m else (1, None)
        detail = msg.split(": ", 1)[-1] if ": " in msg else msg
        raise HybridSyntaxError(f"syntax error: {detail}", line, col) from None
