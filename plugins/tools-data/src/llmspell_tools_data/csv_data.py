"""CSV text as a header and rows of strings, with delimiter detection and number parsing.

Contract of :func:`parse_csv`: the first row is the header; header names are stripped, empty
ones become ``column_N`` and repeated ones get ``_2``, ``_3`` ... suffixes; rows shorter than
the header are padded with empty strings, extra cells are dropped; blank lines are skipped.
Cells stay strings. Sizes are bounded by :data:`MAX_ROWS` and :data:`MAX_COLUMNS`.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from collections import Counter
from typing import Any

import attrs

#: Most data rows parsed from one CSV text.
MAX_ROWS = 200_000
#: Most columns in one CSV text.
MAX_COLUMNS = 1000
#: Delimiters tried when none is given.
DELIMITERS = ",;\t|"
#: Characters of the text given to csv.Sniffer.
SNIFF_CHARS = 65_536
#: Records read to judge a candidate delimiter.
SHAPE_RECORDS = 50
#: Most characters in one cell (the csv module's default field size limit).
MAX_FIELD_CHARS = csv.field_size_limit()

_INTEGER = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class CsvError(Exception):
    """The CSV text is malformed; ``problem`` says how and where."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


@attrs.define
class Table:
    """A parsed CSV text: ``columns`` (unique names) and ``rows`` (lists of strings, each as
    long as ``columns``), with the ``delimiter`` used."""

    columns: list[str]
    rows: list[list[str]]
    delimiter: str


@attrs.define(frozen=True)
class _Shape:
    """How ``text`` reads with one delimiter: fields in the first record, and the one number of
    fields of the first :data:`SHAPE_RECORDS` records (``None`` if they differ or fail)."""

    first: int
    consistent: int | None


def _shape(text: str, delimiter: str) -> _Shape:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    widths: list[int] = []
    try:
        for record in itertools.islice(reader, SHAPE_RECORDS):
            if record and not (len(record) == 1 and not record[0].strip()):
                widths.append(len(record))
    except csv.Error:
        return _Shape(widths[0] if widths else 0, None)
    if not widths:
        return _Shape(0, None)
    return _Shape(widths[0], widths[0] if len(set(widths)) == 1 else None)


def _sniff(text: str) -> str | None:
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return None


def detect_delimiter(text: str) -> str:
    """The delimiter of ``text`` among :data:`DELIMITERS`.

    Only candidates that split the header into several fields count; among them, those that read
    the first records with one consistent number of fields win (the most fields first, then
    csv.Sniffer's guess, then the order of :data:`DELIMITERS`); if none is consistent (a ragged
    CSV), csv.Sniffer's guess, else the candidate giving the header most fields. A header of one
    field means a one-column CSV: the first candidate that keeps every record one field.
    """
    shapes = {d: _shape(text, d) for d in DELIMITERS}
    multi = [d for d in DELIMITERS if shapes[d].first > 1]
    if not multi:
        return next((d for d in DELIMITERS if shapes[d].consistent == 1), ",")
    consistent = {d: shapes[d].consistent for d in multi if shapes[d].consistent}
    if consistent:
        most = max(w for w in consistent.values() if w)
        tied = [d for d in multi if consistent.get(d) == most]
        if len(tied) == 1:
            return tied[0]
        sniffed = _sniff(text)
        return sniffed if sniffed in tied else tied[0]
    sniffed = _sniff(text)
    if sniffed in multi:
        return sniffed
    return max(multi, key=lambda d: shapes[d].first)


def _unique_columns(header: list[str]) -> list[str]:
    seen: set[str] = set()
    columns = []
    for i, raw in enumerate(header, start=1):
        name = raw.strip() or f"column_{i}"
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        columns.append(candidate)
    return columns


def parse_csv(text: str, delimiter: str | None) -> Table:
    """Parse ``text`` (see the module docstring); :class:`CsvError` when it is malformed or has
    more than :data:`MAX_ROWS` rows or :data:`MAX_COLUMNS` columns."""
    if text.startswith("\ufeff"):
        text = text[1:]
    delimiter = delimiter or detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    try:
        for record in reader:
            if not record or (
                len(record) == 1 and not record[0].strip() and (header is None or len(header) > 1)
            ):
                continue  # a blank line (in a one-column CSV an empty cell is a value)
            if header is None:
                if len(record) > MAX_COLUMNS:
                    raise CsvError(
                        f"the CSV has {len(record)} columns; the limit is {MAX_COLUMNS}"
                    )
                header = record
                continue
            if len(rows) == MAX_ROWS:
                raise CsvError(
                    f"the CSV has more than {MAX_ROWS} rows; split it and process it in parts"
                )
            width = len(header)
            rows.append(record[:width] + [""] * (width - len(record)))
    except csv.Error as exc:
        raise CsvError(f"malformed CSV at line {reader.line_num}: {exc}", reader.line_num) from None
    if header is None:
        raise CsvError("the CSV text has no header row")
    return Table(_unique_columns(header), rows, delimiter)


def write_csv(columns: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    """CSV text of ``columns`` (the header) and ``rows``; lines end with ``\\n``. A cell is
    quoted (inner quotes doubled) when it holds the delimiter, a quote, ``\\r`` or ``\\n`` (the
    csv module would leave a lone ``\\r`` bare), and a row of one empty cell is written ``""``
    so that it is not read as a blank line."""
    special = (delimiter, '"', "\r", "\n")

    def field(cell: str) -> str:
        if any(ch in cell for ch in special):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    def line(cells: list[str]) -> str:
        if len(cells) == 1 and not cells[0].strip():
            return '"' + cells[0] + '"\n'
        return delimiter.join(field(c) for c in cells) + "\n"

    return "".join(line(r) for r in [columns, *rows])


def number(text: str) -> int | float | None:
    """The number written in ``text`` (surrounding spaces allowed; decimal integers, decimals,
    exponents; no NaN/infinity, no ``_`` separators), else ``None``."""
    text = text.strip()
    if _INTEGER.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # more digits than Python converts
            pass
    if _FLOAT.fullmatch(text):
        value = float(text)
        if math.isfinite(value):
            return value
    return None


def to_number(value: Any) -> int | float | None:
    """``value`` as a number: JSON numbers (not booleans) as they are, numeric strings parsed
    with :func:`number`, anything else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return number(value)
    return None


class BoundedCounter:
    """Counts values, tracking at most ``limit`` distinct ones: once full, new values are
    no longer counted (``capped`` becomes true) while known ones still are."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.counts: Counter[str] = Counter()
        self.capped = False

    def add(self, value: str) -> None:
        if value in self.counts or len(self.counts) < self.limit:
            self.counts[value] += 1
        else:
            self.capped = True

    def top(self, n: int) -> list[dict[str, Any]]:
        """The ``n`` most frequent values, ties by value."""
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [{"value": v, "count": c} for v, c in ranked[:n]]
