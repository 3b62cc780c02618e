"""Hypothesis fuzzing of the data loaders (issue 17): any table the csv / json writers produce
reads back row for row (texts with every kind of separator, quote and encoding), and random
or mutated bytes give a Dataset or a DataError, nothing else."""
import csv
import io
import json

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hqsim.experiments.data import DataError, load_table  # noqa: E402

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TRICKY = "\u2028\u2029\x85\x0c\x0b\x1c\x1d\x1e\"',;\t\r\n \ufeff\x00é漢😀"
texts = st.text(alphabet=st.one_of(st.sampled_from(TRICKY),
                                   st.characters(exclude_categories=("Cs",))), min_size=1, max_size=30)
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16")


def _table(fmt, rows, ensure_ascii=True):
    if fmt == "jsonl":
        return "".join(json.dumps({"text": t, "label": y}, ensure_ascii=ensure_ascii) + "\n" for t, y in rows)
    if fmt == "tsv":  # no quoting: a TSV text holds no tab or line end (see _usable)
        return "".join(f"{t}\t{y}\n" for t, y in [("text", "label"), *rows])
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(["text", "label"])
    w.writerows([t, y] for t, y in rows)
    return buf.getvalue()


def _usable(fmt, text):
    if not text.strip() or text.strip().startswith("\ufeff"):
        return False
    return fmt != "tsv" or not any(c in text for c in "\t\r\n")  # TSV cannot hold these


@SETTINGS
@given(fmt=st.sampled_from(("tsv", "csv", "jsonl")), encoding=st.sampled_from(ENCODINGS),
       ensure_ascii=st.booleans(), body=st.lists(st.tuples(texts, st.integers(0, 1)), max_size=12))
def test_written_tables_read_back_row_for_row(tmp_path_factory, fmt, encoding, ensure_ascii, body):
    rows = [("first", 0), ("second", 1)] + [(t, y) for t, y in body if _usable(fmt, t)]
    path = tmp_path_factory.mktemp("t") / f"d.{fmt}"
    path.write_bytes(_table(fmt, rows, ensure_ascii).encode(encoding))
    ds = load_table(path, label_names=("0", "1"))
    assert ds.texts == tuple(t.strip() for t, _ in rows)
    assert ds.labels.tolist() == [y for _, y in rows]
    if fmt == "jsonl":
        assert ds.lines == tuple(range(1, len(rows) + 1))
    elif fmt == "tsv":
        assert ds.lines == tuple(range(2, len(rows) + 2))


def _loads_or_data_error(tmp_path_factory, name, raw, **kw):
    path = tmp_path_factory.mktemp("f") / name
    path.write_bytes(raw)
    try:
        ds = load_table(path, **kw)
    except DataError as exc:
        assert str(path) in str(exc) or "label" in str(exc) or "format" in str(exc)
        return None
    assert len(ds.texts) == len(ds.labels) == len(ds.lines) and ds.num_classes >= 2
    return ds


@SETTINGS
@given(fmt=st.sampled_from(("tsv", "csv", "jsonl")), raw=st.binary(max_size=300),
       skip=st.booleans())
def test_random_bytes_give_a_dataset_or_a_data_error(tmp_path_factory, fmt, raw, skip):
    _loads_or_data_error(tmp_path_factory, f"r.{fmt}", raw, skip_bad_rows=skip)


@SETTINGS
@given(fmt=st.sampled_from(("tsv", "csv", "jsonl")), data=st.data())
def test_mutated_tables_give_a_dataset_or_a_data_error(tmp_path_factory, fmt, data):
    rows = [(f"row {i} text", i % 3) for i in range(8)]
    raw = bytearray(_table(fmt, rows).encode("utf-8"))
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(raw)))
        piece = data.draw(st.one_of(st.sampled_from([b'"', b"\t", b",", b"\n", b"\r", b"\r\n", b"{",
                                                     b"\xff", b"\xe2\x80\xa8", b"\x00", b"\\"]),
                                    st.binary(min_size=1, max_size=4)))
        if data.draw(st.booleans()):
            raw[pos:pos] = piece
        else:
            del raw[pos:pos + len(piece)]
    _loads_or_data_error(tmp_path_factory, f"m.{fmt}", bytes(raw),
                         skip_bad_rows=data.draw(st.booleans()))
