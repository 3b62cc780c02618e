"""torch side of the execution spine: the one autograd Function (torch_function), tensors into and
out of executors (arrays), and sync-free value checks of device tensors (device_checks)."""
from .device_checks import check_pending

__all__ = ["check_pending"]
