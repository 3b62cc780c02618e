"""Front ends: OpenQASM 3, Quil and the Python builder -> hybrid IR."""
