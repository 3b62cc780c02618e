"""Printers: hybrid IR -> OpenQASM 3, Quil, or a plain-text dump."""
