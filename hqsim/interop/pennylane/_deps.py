"""The one place where PennyLane is imported for hqsim (a clear error when it is missing)."""
from __future__ import annotations

from .._optional import require

qml = require("pennylane", "pennylane", "pip install 'hqsim[pennylane]'  (or: pip install pennylane)")
