"""Output files written whole or not at all, with errors that name the file.

``atomic_write_with`` writes a temporary next to the target (``.<name>.XXXXXXXX.tmp``), fsyncs
it, renames it over the target and fsyncs the directory: a reader, or a crash, sees the old
file or the new one, never a torn one. ``check_output_path`` refuses a directory or a missing
parent before any work is done. Used by the command-line tools (``hqsim compile``/``export``
``-o``) and by run directories (hqsim.experiments.rundir, which also removes the temporaries a
killed writer left).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


class OutputError(ValueError):
    """An output that cannot be written; the message names the file."""


def check_output_path(path, option: str = "-o") -> Path:
    """``path`` as a Path if a file can be written there: not a directory, parent exists."""
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{option} {path}: is a directory; give a file name")
    if not target.parent.is_dir():
        raise OutputError(f"{option} {path}: directory {target.parent} does not exist")
    return target


def atomic_write_with(path, write) -> Path:
    """Write ``path`` atomically: ``write(binary_file)`` fills a temporary in the same directory,
    which is fsynced and renamed over ``path``; the directory is fsynced after. On any error the
    temporary is removed and the old ``path`` (if any) is untouched."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs are for everyone to read
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write(path, data: bytes | str) -> Path:
    """``atomic_write_with`` for bytes (or text, written as UTF-8)."""
    blob = data.encode("utf-8") if isinstance(data, str) else data
    return atomic_write_with(path, lambda fh: fh.write(blob))


def _fsync_dir(directory: Path):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not every file system lets a directory be opened; the rename is done anyway
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
