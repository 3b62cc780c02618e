"""Records end only at \\n, \\r\\n or \\r: Unicode line separators inside texts are text (issue 17,
item 3), every row is kept, and every reported line number is the file's. Empty splits and
options that would be ignored are errors or warnings, never silence."""
import json

import pytest

from hqsim.experiments.data import DataError, load_table, make_splits

# str.splitlines() ends a line at each of these; a data file does not
SEPARATORS = ["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e"]


def write(tmp_path, name, content):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return p


@pytest.mark.parametrize("sep", SEPARATORS)
def test_tsv_unicode_separators_are_text_and_line_numbers_are_the_files(tmp_path, sep):
    p = write(tmp_path, "s.tsv", f"sentence\tlabel\nhead{sep}tail one\t1\nplain\t0\nbad\tmaybe\n")
    with pytest.raises(DataError, match=r"s\.tsv:4: label 'maybe'"):
        load_table(p, label_names=["0", "1"])
    ds = load_table(p, label_names=["0", "1"], skip_bad_rows=True)
    assert ds.texts == (f"head{sep}tail one", "plain")
    assert ds.labels.tolist() == [1, 0] and ds.lines == (2, 3)
    assert any("skipped 1 bad row(s)" in w for w in ds.warnings)


def test_skip_bad_rows_never_keeps_sentence_tails(tmp_path):
    rows = "".join(f"first part\u2028second part {i}\t{i % 2}\n" for i in range(3))
    ds = load_table(write(tmp_path, "t.tsv", "sentence\tlabel\n" + rows), skip_bad_rows=True)
    assert len(ds) == 3 and not any("skipped" in w for w in ds.warnings)
    assert all(t.startswith("first part\u2028second part") for t in ds.texts)


def test_csv_keeps_u2028_and_quoted_newlines_with_right_line_numbers(tmp_path):
    p = write(tmp_path, "c.csv", 'text,label\n"a\u2028b",1\n"two\nlines",0\nok,1\r\nbad,7\n')
    with pytest.raises(DataError, match=r"c\.csv:6: label '7'"):
        load_table(p, label_names=["0", "1"])
    ds = load_table(p, label_names=["0", "1"], skip_bad_rows=True)
    assert ds.texts == ("a\u2028b", "two\nlines", "ok") and ds.lines == (2, 3, 5)


def test_jsonl_written_with_ensure_ascii_false_keeps_every_row(tmp_path):
    rows = [{"text": f"x{s}y", "label": i % 2} for i, s in enumerate(SEPARATORS)]
    p = write(tmp_path, "j.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    ds = load_table(p)
    assert ds.texts == tuple(r["text"] for r in rows) and ds.lines == tuple(range(1, len(rows) + 1))


def test_cr_only_line_ends_and_unclosed_quote(tmp_path):
    ds = load_table(write(tmp_path, "r.tsv", "sentence\tlabel\rgood\t1\rbad\t0\r"))
    assert ds.texts == ("good", "bad") and ds.lines == (2, 3)
    p = write(tmp_path, "q.csv", 'label,text\n1,fine\n0,"never closed\n1,swallowed\n0,too\n')
    with pytest.raises(DataError, match=r"q\.csv:3: a quoted field opened here is never closed"):
        load_table(p)


def test_utf16_without_bom_is_named(tmp_path):
    p = write(tmp_path, "w.tsv", "sentence\tlabel\ngood\t1\n".encode("utf-16-le"))
    with pytest.raises(DataError, match=r"w\.tsv: looks like UTF-16"):
        load_table(p)


def _forty(tmp_path):
    rows = "".join(f"sentence {i}\t{'pos' if i % 2 else 'neg'}\n" for i in range(40))
    return write(tmp_path, "u.tsv", "sentence\tlabel\n" + rows)


def test_empty_test_split_is_an_error(tmp_path):
    with pytest.raises(DataError, match="the test set is empty.*--per-label 20"):
        make_splits("paper", 0, [_forty(tmp_path)], per_label=20)


def test_empty_validation_split_is_a_warning_and_skipped_rows_reach_the_splits(tmp_path):
    p = write(tmp_path, "v.tsv", "sentence\tlabel\n" + "".join(f"s{i}\t{i % 2}\n" for i in range(12))
              + "odd\tmaybe\n")
    s = make_splits("paper", 0, [p], per_label=2, val_fraction=0.1, label_names=("0", "1"),
                    skip_bad_rows=True)
    assert len(s.validation) == 0 and len(s.train) == 4
    assert any("validation set is empty" in w for w in s.warnings)
    assert any("v.tsv:14" in w for w in s.warnings)


@pytest.mark.parametrize("option, flag", [("label_names", "--labels"), ("encoding", "--encoding"),
                                          ("text_column", "--text-column"),
                                          ("skip_bad_rows", "--skip-bad-rows")])
def test_load_options_with_builtin_sst2_are_errors(option, flag):
    value = {"label_names": ("neg", "pos"), "skip_bad_rows": True}.get(option, "x")
    with pytest.raises(DataError, match=f"{flag} applies to --data files only"):
        make_splits("paper", 0, **{option: value})
