"""A run directory: the outputs of one command (``hqsim train``, ``hqsim finetune``, a sweep
trial), safe against the three ways results get lost.

- **One process at a time.** ``RunDir.open`` takes an advisory lock (``fcntl.flock`` on
  ``.lock``, which holds the holder's PID, host and command); a second process is refused with
  an error naming that PID. The kernel drops the lock when its holder dies, so a killed run
  never leaves a stale lock behind.
- **The configuration is recorded.** ``config.json`` holds everything that decides the results
  (its ``key``: the caller's config dataclasses walked field by field by ``describe``, so an
  option added to a dataclass later is recorded and compared without touching this module;
  data files by content hash; the hqsim version) and, apart, what does not (``info``: paths,
  date). Resuming with a different key is refused with the list of differences; starting anew
  in a directory that already holds a run needs ``force_new`` (which deletes its outputs).
- **Atomic files.** ``atomic_write`` (hqsim.outputs) writes a temporary next to the target,
  fsyncs it, renames it over the target and fsyncs the directory; a reader sees the old file
  or the new one, never a torn one. Temporaries a killed writer left behind are deleted by the
  next ``open``.

Every error is a ``RunDirError`` whose message names the file it is about.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import shutil
import socket
import time
from pathlib import Path

from ..outputs import OutputError, atomic_write, atomic_write_with  # noqa: F401 - re-exported

try:  # POSIX; on other systems the lock is skipped (documented in RunDir.open)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

CONFIG_JSON, LOCK_FILE, COMMAND_TXT = "config.json", ".lock", "command.txt"
# atomic_write's temporaries: ".<target name>.<mkstemp's 8 characters>.tmp"
_TMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


class RunDirError(OutputError):
    """A run directory that cannot be used as asked; the message names the file or directory."""


class ConfigMismatch(RunDirError):
    """``--resume`` with a configuration other than the recorded one."""

    def __init__(self, path: Path, differences: list[str]):
        self.path, self.differences = path, differences
        shown = "\n  ".join(differences[:40]) + (f"\n  ... and {len(differences) - 40} more"
                                                 if len(differences) > 40 else "")
        super().__init__(
            f"{path / CONFIG_JSON}: the run was started with another configuration; differences "
            f"(recorded → now):\n  {shown}\nresume with the recorded options, start over in this "
            "directory with --force-new (deletes its results), or choose another --out")


# -- files ----------------------------------------------------------------------------------
def clean_stale_temporaries(root) -> list[Path]:
    """Delete the temporaries ``atomic_write`` left under ``root`` when its process was killed
    mid-write. Only call this while holding the directory's lock (a live writer's temporary
    would otherwise go). Returns the paths deleted."""
    gone = []
    for p in Path(root).rglob("*.tmp"):
        if _TMP_NAME.match(p.name) and p.is_file():
            p.unlink(missing_ok=True)
            gone.append(p)
    return gone


def read_json(path):
    """Parse a JSON file; a missing, unreadable or damaged file raises RunDirError naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RunDirError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise RunDirError(f"{path} is damaged (not UTF-8 at byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{path}:{exc.lineno}:{exc.colno}: damaged JSON ({exc.msg}); the file "
                          "was not written by a finished hqsim write (it is written atomically), "
                          "so restore it or start over with --force-new") from None


# -- configuration --------------------------------------------------------------------------
def describe(obj):
    """A JSON-able, order-stable description of a configuration: dataclasses field by field
    (a field whose metadata has ``"run_key": False`` is left out: it does not change results),
    tuples and lists as lists, dicts by key, paths as strings, non-finite floats as strings."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: describe(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if f.metadata.get("run_key", True)}
    if isinstance(obj, dict):
        return {str(k): describe(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [describe(v) for v in obj]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if hasattr(obj, "item"):  # numpy / torch scalars
        return describe(obj.item())
    return repr(obj)


def file_fingerprint(path) -> dict:
    """{"sha256", "bytes"} of a file's content (read in 1 MiB blocks)."""
    path = Path(path)
    h, n = hashlib.sha256(), 0
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
                n += len(block)
    except OSError as exc:
        raise RunDirError(f"cannot read {path}: {exc.strerror or exc}") from None
    return {"sha256": h.hexdigest(), "bytes": n}


def config_differences(old, new, where: str = "") -> list[str]:
    """Every leaf where two ``describe`` results differ, as ``"where: old → new"``."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in list(old) + [k for k in new if k not in old]:
            sub = f"{where}.{k}" if where else k
            if k not in new:
                out.append(f"{sub}: {_short(old[k])} → (absent)")
            elif k not in old:
                out.append(f"{sub}: (absent) → {_short(new[k])}")
            else:
                out += config_differences(old[k], new[k], sub)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in config_differences(a, b, f"{where}[{i}]")]
    return [] if old == new else [f"{where or '(all)'}: {_short(old)} → {_short(new)}"]


def _short(v) -> str:
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 120 else s[:117] + "..."


# -- the directory ----------------------------------------------------------------------------
class RunDir:
    """An open, locked run directory. Use ``RunDir.open(...)`` as a context manager."""

    def __init__(self, path: Path, lock_fh, resumed: bool, cleaned: list):
        self.path, self._lock_fh, self.resumed, self.cleaned = path, lock_fh, resumed, cleaned

    @classmethod
    def open(cls, path, key: dict, *, info: dict | None = None, resume: bool = False,
             force_new: bool = False, must_exist: bool = False, outputs=(),
             command: str | None = None) -> "RunDir":
        """Lock ``path`` (created if missing) for this process and check its configuration.

        key: what decides the results (``describe`` of the caller's config, fingerprints of
        its data); compared with the recorded one when resuming. info: recorded, not compared.
        resume: continue the run recorded there (``ConfigMismatch`` if ``key`` differs); a
        directory without a recorded run starts one, unless ``must_exist`` and it is missing.
        force_new: delete ``outputs`` (names relative to ``path``) and start anew. Neither:
        refuse a directory that already holds a run. command: recorded in command.txt (a
        resume appends a line). Without ``fcntl`` (not POSIX) no lock is taken."""
        path = Path(path)
        if must_exist and not path.is_dir():
            raise RunDirError(f"--resume: {path} does not exist (or is not a directory); "
                              "give the --out of the run to continue, or leave out --resume")
        if path.exists() and not path.is_dir():
            raise RunDirError(f"{path} exists and is not a directory; choose another --out")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirError(f"cannot create run directory {path}: {exc.strerror or exc}") from None
        lock_fh = _lock(path, command)
        try:
            cleaned = clean_stale_temporaries(path)
            resumed = _check_config(path, key, info or {}, resume, force_new, outputs)
            if command is not None:
                _record_command(path / COMMAND_TXT, command, resumed)
        except BaseException:
            lock_fh.close()
            raise
        return cls(path, lock_fh, resumed, cleaned)

    def close(self):
        if self._lock_fh is not None:
            self._lock_fh.close()  # closing the file drops the flock
            self._lock_fh = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _lock(path: Path, command: str | None):
    lock_path = path / LOCK_FILE
    try:
        fh = open(lock_path, "a+", encoding="utf-8")
    except OSError as exc:
        raise RunDirError(f"cannot open lock file {lock_path}: {exc.strerror or exc}") from None
    if fcntl is None:  # pragma: no cover
        return fh
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.seek(0)
        holder = fh.read().splitlines()
        fh.close()
        pid = holder[0] if holder else "?"
        who = f" on {holder[1]}" if len(holder) > 1 else ""
        since = f", since {holder[2]}" if len(holder) > 2 else ""
        cmd = f" ({holder[3]})" if len(holder) > 3 else ""
        raise RunDirError(f"{path} is in use by process {pid}{who}{since}{cmd} (lock file "
                          f"{lock_path}); one process per run directory: wait for it to finish, "
                          "stop it, or choose another --out") from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"{os.getpid()}\n{socket.gethostname()}\n{_now()}\n{command or ''}\n")
    fh.flush()
    return fh


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def _check_config(path: Path, key: dict, info: dict, resume: bool, force_new: bool, outputs) -> bool:
    """Returns whether a recorded run is being continued; writes config.json otherwise."""
    cfg_path = path / CONFIG_JSON
    key = json.loads(json.dumps(key))  # compare as it will read back (tuples → lists, ...)
    held = [n for n in (CONFIG_JSON, *outputs) if (path / n).exists()]
    if force_new:
        for name in held:
            target = path / name
            try:
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            except OSError as exc:
                raise RunDirError(f"--force-new: cannot delete {target}: {exc.strerror or exc}") from None
    elif resume and cfg_path.exists():
        recorded = read_json(cfg_path)
        if not isinstance(recorded, dict) or "key" not in recorded:
            raise RunDirError(f"{cfg_path} is not a run configuration; start over with --force-new")
        diffs = config_differences(recorded["key"], key)
        if diffs:
            raise ConfigMismatch(path, diffs)
        return True
    elif held:
        what = ", ".join(held)
        if resume:
            raise RunDirError(f"--resume: {path} holds {what} but no {CONFIG_JSON} (a run from an "
                              "older hqsim, or not a run directory), so its configuration cannot "
                              "be checked; start over with --force-new or choose another --out")
        raise RunDirError(f"{path} already holds a run ({what}); continue it with --resume, start "
                          "over with --force-new (deletes its results), or choose another --out")
    atomic_write(cfg_path, json.dumps({"key": key, "info": {**info, "started": _now()}},
                                      indent=1, ensure_ascii=False) + "\n")
    return False


def _record_command(path: Path, command: str, resumed: bool):
    """command.txt holds the command that started the run; each resume adds its own line."""
    old = path.read_text(encoding="utf-8", errors="replace") if resumed and path.exists() else ""
    line = f"# resumed {_now()}: {command}" if old else command
    atomic_write(path, old + line + "\n")
