"""Data loading and the split protocols."""
import numpy as np
import pytest

from hqsim.experiments.data import DataError, load_sst2, load_table, make_splits, paper_split


@pytest.fixture(scope="module")
def sst2():
    return load_sst2()


def test_builtin_sst2_sizes(sst2):
    assert {k: len(v) for k, v in sst2.items()} == {"train": 6920, "dev": 872, "test": 1821}
    assert np.bincount(sst2["train"].labels).tolist() == [3310, 3610]
    assert np.bincount(sst2["dev"].labels).tolist() == [428, 444]
    assert np.bincount(sst2["test"].labels).tolist() == [912, 909]


@pytest.mark.parametrize("seed", [0, 1, 2, 12345])
def test_paper_split_sizes_and_disjointness(seed):
    s = make_splits("paper", seed)
    assert s.sizes() == {"train": 435, "validation": 77, "test": 9101}
    # the pool repeats a few sentences, so identify rows by (line, text, label)
    ids = [set(zip(p.lines, p.texts, p.labels.tolist())) for p in (s.train, s.validation, s.test)]
    assert sum(len(i) for i in ids) == len(set().union(*ids))
    labels = np.concatenate([s.train.labels, s.validation.labels])
    assert np.bincount(labels).tolist() == [256, 256]
    again = make_splits("paper", seed)
    assert again.train.texts == s.train.texts and again.test.texts == s.test.texts


def test_paper_split_indices_partition_the_pool(sst2):
    from hqsim.experiments.data import concat
    pool = concat([sst2["train"], sst2["dev"], sst2["test"]])
    tagged = pool.__class__(tuple(f"{i}\t{t}" for i, t in enumerate(pool.texts)), pool.labels,
                            pool.label_names, "pool", tuple(range(len(pool))))
    for seed in (0, 3):
        s = paper_split(tagged, seed)
        idx = [[int(t.split("\t")[0]) for t in p.texts] for p in (s.train, s.validation, s.test)]
        flat = sorted(i for part in idx for i in part)
        assert flat == list(range(9613))
    a, b = paper_split(tagged, 0), paper_split(tagged, 1)
    assert a.train.texts != b.train.texts


def test_standard_protocol_and_max_test():
    s = make_splits("standard", 0)
    assert s.sizes() == {"train": 6920, "validation": 872, "test": 1821}
    s = make_splits("paper", 0, max_test=100)
    assert s.sizes()["test"] == 100


def write(tmp_path, name, content, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return p


def test_missing_column_names_the_columns(tmp_path):
    p = write(tmp_path, "a.tsv", "review\tstars\ngood\t1\n")
    with pytest.raises(DataError, match=r"no text column.*\['review', 'stars'\]"):
        load_table(p)
    ds = load_table(p, text_column="review", label_column="stars", label_names=["0", "1"])
    assert ds.texts == ("good",)
    with pytest.raises(DataError, match="no label column 'score'"):
        load_table(p, text_column="review", label_column="score")


def test_bad_labels_and_empty_text_reported_by_line(tmp_path):
    p = write(tmp_path, "b.tsv", "sentence\tlabel\ngood\t1\nbad\tmaybe\n\t0\nfine\t0\nok\t\nx\t7\n")
    with pytest.raises(DataError) as err:
        load_table(p, label_names=["0", "1"])
    msg = str(err.value)
    assert "4 bad row(s)" in msg
    assert "b.tsv:3: label 'maybe'" in msg and "b.tsv:4: empty text" in msg
    assert "b.tsv:6: empty label" in msg and "b.tsv:7: label '7'" in msg
    ds = load_table(p, label_names=["0", "1"], skip_bad_rows=True)
    assert ds.texts == ("good", "fine") and ds.lines == (2, 5)
    assert any("skipped 4 bad row(s)" in w for w in ds.warnings)


def test_inferred_labels_flag_the_odd_one_out(tmp_path):
    p = write(tmp_path, "c.tsv", "sentence\tlabel\na\t0\nb\t1\nc\tpositive\nd\t2\n")
    with pytest.raises(DataError, match="c.tsv:4: label 'positive' is not an integer"):
        load_table(p)
    ds = load_table(p, skip_bad_rows=True)
    assert ds.label_names == ("0", "1", "2") and ds.num_classes == 3  # multi-class


def test_empty_lines_and_crlf_are_not_rows(tmp_path):
    p = write(tmp_path, "d.tsv", "\r\nsentence\tlabel\r\n\r\ngood\t1\r\n   \r\nbad\t0\r\n\r\n")
    ds = load_table(p)
    assert ds.texts == ("good", "bad") and ds.lines == (4, 6)


def test_mixed_encodings_are_read_and_reported(tmp_path):
    raw = "sentence\tlabel\ncafé ok\t1\n".encode() + "naïve bad\t0\n".encode("cp1252") + "fine\t1\n".encode()
    p = write(tmp_path, "e.tsv", raw)
    ds = load_table(p)
    assert ds.texts == ("café ok", "naïve bad", "fine")
    assert any("read as cp1252: 3" in w for w in ds.warnings)
    with pytest.raises(DataError, match="e.tsv:3: not valid utf-8"):
        load_table(p, encoding="utf-8")
    assert load_table(p, encoding="latin-1").texts[0] == "cafÃ© ok"  # declared wins


def test_bom_and_declared_encodings(tmp_path):
    p = write(tmp_path, "f.csv", "text,label\n\"a, quoted\",pos\nb,neg\n", encoding="utf-16")
    ds = load_table(p)
    assert ds.texts == ("a, quoted", "b") and ds.label_names == ("neg", "pos")
    assert ds.labels.tolist() == [1, 0]
    q = write(tmp_path, "g.tsv", "\ufeffsentence\tlabel\nok\t1\nno\t0\n")
    assert load_table(q, encoding="utf-8").texts == ("ok", "no")
    with pytest.raises(DataError, match="unknown encoding"):
        load_table(p, encoding="no-such-codec")


def test_csv_short_rows_and_jsonl(tmp_path):
    p = write(tmp_path, "g.csv", "text,label\ngood,1\nonly-one-field\nbad,0\n")
    with pytest.raises(DataError, match="g.csv:3: has 1 field"):
        load_table(p)
    j = write(tmp_path, "h.jsonl", '{"text": "good", "label": 1}\n\n{"text": "bad"}\n{oops\n'
              '{"text": "meh", "label": 0}\n')
    with pytest.raises(DataError) as err:
        load_table(j)
    assert "h.jsonl:3: has no 'label' field" in str(err.value)
    assert "h.jsonl:4: not valid JSON" in str(err.value)
    ds = load_table(j, skip_bad_rows=True)
    assert ds.texts == ("good", "meh") and ds.lines == (1, 5)


def test_format_and_file_errors(tmp_path):
    with pytest.raises(DataError, match="cannot tell the format"):
        load_table(write(tmp_path, "x.dat", "a"))
    with pytest.raises(DataError, match="cannot read data file"):
        load_table(tmp_path / "missing.tsv")
    with pytest.raises(DataError, match="empty"):
        load_table(write(tmp_path, "empty.tsv", "\n\n"))
    with pytest.raises(DataError, match="at least 2 classes"):
        load_table(write(tmp_path, "one.tsv", "sentence\tlabel\na\t1\nb\t1\n"))


def test_user_files_with_protocols(tmp_path):
    rows = "".join(f"sentence {i}\t{'pos' if i % 2 else 'neg'}\n" for i in range(40))
    p = write(tmp_path, "u.tsv", "sentence\tlabel\n" + rows)
    s = make_splits("paper", 0, [p], per_label=10, val_fraction=0.2)
    assert s.sizes() == {"train": 16, "validation": 4, "test": 20}
    with pytest.raises(DataError, match="fewer than per_label"):
        make_splits("paper", 0, [p], per_label=30)
    s = make_splits("standard", 0, [p, p])
    assert s.sizes() == {"train": 34, "validation": 6, "test": 40}
    with pytest.raises(DataError, match="needs 2 files"):
        make_splits("standard", 0, [p])
