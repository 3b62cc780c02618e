"""Reading a data file's records: decoding its bytes and splitting them into rows.

The encoding is taken as declared, else from a byte-order mark, else UTF-8; a file that is not
valid UTF-8 throughout is decoded line by line (UTF-8, falling back to cp1252), and the lines
that needed the fallback are reported. A record ends only at "\n", "\r\n" or "\r" (never at
U+2028, NEL, form feed... which ``str.splitlines`` also takes for line ends): TSV/CSV text is
read by the ``csv`` module through ``io.StringIO(newline="")`` (TSV unquoted, CSV quoted, so a
quoted CSV field may span lines), JSON Lines per "\n" with the JSON decoder. A line number is 1
+ the line ends before the record, so every reported line number is the file's.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

TEXT_COLUMNS = ("sentence", "text")
LABEL_COLUMNS = ("label", "labels")
FORMATS = ("tsv", "csv", "jsonl")


class DataError(ValueError):
    """A data file that cannot be used; the message names the file, line and what is wrong."""


# -- decoding -------------------------------------------------------------------------------
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _line_at(raw: bytes, offset: int) -> int:
    head = raw[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def decode_text(raw: bytes, path: str, encoding: str | None = None) -> tuple[str, list[str]]:
    """Decode a data file's bytes. Returns (text without a byte-order mark, warnings)."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DataError(f"{path}: unknown encoding {encoding!r}") from None
        try:
            return raw.decode(encoding).removeprefix("\ufeff"), []
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}:{_line_at(raw, exc.start)}: not valid {encoding} ({exc.reason}); "
                            "declare the right encoding or leave it out to detect it") from None
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(enc).removeprefix("\ufeff"), []
            except UnicodeDecodeError as exc:
                raise DataError(f"{path}: starts with a {enc} byte-order mark but is not valid "
                                f"{enc} at byte {exc.start} ({exc.reason})") from None
    if raw[:4096].count(b"\x00") > len(raw[:4096]) // 4:  # no text file is a quarter NUL bytes
        raise DataError(f"{path}: looks like UTF-16 or UTF-32 without a byte-order mark; declare it "
                        "with --encoding (e.g. utf-16-le)")
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    parts, fallback = [], []
    for n, chunk in enumerate(raw.splitlines(keepends=True), start=1):  # bytes: \n, \r\n, \r only
        try:
            parts.append(chunk.decode("utf-8"))
        except UnicodeDecodeError:
            parts.append(chunk.decode("cp1252", errors="replace"))
            fallback.append(n)
    shown = ", ".join(map(str, fallback[:10])) + (" ..." if len(fallback) > 10 else "")
    return "".join(parts), [f"{path}: {len(fallback)} line(s) are not UTF-8 and were read as cp1252: {shown}"]


def detect_format(path: str, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise DataError(f"format must be one of {FORMATS}, got {fmt!r}")
        return fmt
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("tsv", "tab", "txt"):
        return "tsv"
    if suffix in ("csv",):
        return "csv"
    if suffix in ("jsonl", "ndjson", "json"):
        return "jsonl"
    raise DataError(f"{path}: cannot tell the format from the name; pass format= (one of {FORMATS})")


# -- raw rows -------------------------------------------------------------------------------
def _pick_column(columns, wanted: str | None, defaults, what: str, path: str) -> str:
    if wanted is not None:
        if wanted not in columns:
            raise DataError(f"{path}: no {what} column {wanted!r}; columns are {list(columns)}")
        return wanted
    for name in defaults:
        if name in columns:
            return name
    raise DataError(f"{path}: no {what} column (looked for {list(defaults)}); columns are "
                    f"{list(columns)}; name it with --{what}-column")


class _Lines:
    """The physical lines of a text (ends kept), counting them and remembering the last few, so
    a csv record's first line number and raw text are known."""

    def __init__(self, text: str):
        self._it = iter(io.StringIO(text, newline=""))
        self.count, self.recent = 0, []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._it)
        self.count += 1
        self.recent.append(line)
        return line


def _records(text: str, delimiter: str, path: str):
    """Yield (first line number, fields, raw record text) of every record, blank ones included."""
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter, quoting=quoting)
    while True:
        first = lines.count + 1
        lines.recent = []
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"{path}:{first}: {exc} (a quoted field that is never closed?)") from None
        yield first, row, "".join(lines.recent)


def _unclosed_quote(raw_record: str) -> bool:
    try:
        list(csv.reader(io.StringIO(raw_record, newline=""), strict=True))
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def delimited_rows(text, delimiter, path, text_col, label_col):
    """Yield (line_number, text, label) from a delimited file with a header line; a row that
    cannot be used yields (line_number, None, reason)."""
    records = _records(text, delimiter, path)
    header = next(((n, row) for n, row, _ in records if any(c.strip() for c in row)), None)
    if header is None:
        raise DataError(f"{path}: the file is empty")
    header = [h.strip() for h in header[1]]
    tcol = header.index(_pick_column(header, text_col, TEXT_COLUMNS, "text", path))
    lcol = header.index(_pick_column(header, label_col, LABEL_COLUMNS, "label", path))
    for line, row, raw in records:
        if not row or all(not c.strip() for c in row):
            continue  # blank line: not a row
        if delimiter != "\t" and '"' in raw and _unclosed_quote(raw):
            yield line, None, "a quoted field opened here is never closed (it runs to the end of the file)"
        elif len(row) <= max(tcol, lcol):
            yield line, None, f"has {len(row)} field(s), the header has {len(header)}"
        else:
            yield line, row[tcol], row[lcol]


def jsonl_rows(text, path, text_col, label_col):
    """JSON Lines: one value per "\n"-terminated line (a "\r" before it is dropped)."""
    tname = lname = None
    for n, ln in enumerate(text.split("\n"), start=1):
        ln = ln.removesuffix("\r")
        if not ln.strip():
            continue
        try:
            obj = json.loads(ln)
        except json.JSONDecodeError as exc:
            yield n, None, f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        except RecursionError:
            yield n, None, "not usable JSON (nested too deeply)"
            continue
        if not isinstance(obj, dict):
            yield n, None, "not a JSON object"
            continue
        if tname is None:
            tname = _pick_column(list(obj), text_col, TEXT_COLUMNS, "text", path)
            lname = _pick_column(list(obj), label_col, LABEL_COLUMNS, "label", path)
        if tname not in obj or lname not in obj:
            missing = tname if tname not in obj else lname
            yield n, None, f"has no {missing!r} field"
            continue
        text_v, label = obj[tname], obj[lname]
        yield n, "" if text_v is None else str(text_v), "" if label is None else str(label)
