"""CSV files for volunteers' spreadsheets, safe to open: a cell that a spreadsheet would read
as a formula (``=HYPERLINK(...)``) is neutralised with a leading quote."""

from __future__ import annotations

import csv
import io

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(rows) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
    return out.getvalue()


def csv_bytes(rows, header: list[str]) -> bytes:
    # UTF-8 with a byte-order mark: Excel then reads accents and non-Latin scripts right.
    return csv_text([header] + list(rows)).encode("utf-8-sig")


def csv_header(header: list[str]) -> bytes:
    """The first piece of a CSV file written in pieces (``csv_rows`` for the others)."""
    return csv_text([header]).encode("utf-8-sig")


def csv_rows(rows) -> bytes:
    return csv_text(rows).encode("utf-8")
