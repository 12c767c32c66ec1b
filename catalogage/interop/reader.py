"""Reading an uploaded catalog file (CSV or XLSX) into a header and rows of text.

Files come from anyone with an editor role, so every limit is checked before the
expensive step it protects: the byte size before decoding, the uncompressed
sizes inside an XLSX (a zip) before openpyxl opens it, and the number of rows
and columns while reading. Every problem is a `FileRejected` with a sentence
that tells the user what to fix.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from catalogage.interop.tabular import cell_text

#: Largest file accepted (bytes, as uploaded).
MAX_FILE_BYTES = 32 * 1024 * 1024
#: Largest total uncompressed size of the parts of an XLSX file.
MAX_XLSX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
MAX_XLSX_PARTS = 1000
MAX_ROWS = 100_000
MAX_COLUMNS = 200
#: Longest cell (the longest dataset field, a description, is 20,000 characters).
MAX_CELL_CHARS = 20_000

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
#: Control characters that never occur in a text file (tab, LF and CR excepted).
_BINARY_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class FileRejected(Exception):
    """The file cannot be read as a catalog; the message says why."""


@dataclass
class ParsedFile:
    format: str
    #: Detected text encoding (CSV only).
    encoding: str | None
    delimiter: str | None
    columns: list[str]
    #: (row number in the file, cells as text); the header is row 1.
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def read_catalog_file(data: bytes, filename: str = "") -> ParsedFile:
    """Parse CSV (UTF-8, UTF-8 with BOM, Windows-1252/Latin-1; comma or semicolon) or XLSX."""
    if len(data) > MAX_FILE_BYTES:
        raise FileRejected(
            f"file too large: {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,} bytes"
        )
    if not data.strip():
        raise FileRejected("the file is empty")
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data)
    if data.startswith(_OLE_MAGIC):
        raise FileRejected("old Excel (.xls) files are not supported: save the file as .xlsx")
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise FileRejected("this .xlsx file is damaged: it is not a zip archive")
    return _read_csv(data)


# -- CSV -------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRejected("UTF-16 files are not supported: save the file as CSV UTF-8")
    if b"\x00" in data:
        raise FileRejected("this is not a text file (it contains binary data)")
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    else:
        encodings = ["utf-8", "windows-1252", "latin-1"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _BINARY_CHARS.search(text):
            break
        return text, encoding
    raise FileRejected(
        "the file's encoding is not recognised (expected UTF-8 or Windows-1252/Latin-1 text), "
        "or it is not a text file"
    )


def _delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (";", ",", "\t")}
    return max(counts, key=lambda delimiter: counts[delimiter])


def _read_csv(data: bytes) -> ParsedFile:
    text, encoding = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    parsed = ParsedFile("csv", encoding, delimiter, columns=[])
    try:
        _collect(parsed, ((reader.line_num, row) for row in reader))
    except csv.Error as exc:
        raise FileRejected(f"malformed CSV near line {reader.line_num}: {exc}") from None
    return parsed


# -- XLSX ------------------------------------------------------------------------


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise FileRejected("this .xlsx file is damaged (not a valid zip archive)") from None
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_XLSX_PARTS:
            raise FileRejected(f"this .xlsx file has too many parts ({len(parts)})")
        total = sum(part.file_size for part in parts)
        if total > MAX_XLSX_UNCOMPRESSED_BYTES:
            raise FileRejected(
                f"this .xlsx file expands to {total:,} bytes; the limit is "
                f"{MAX_XLSX_UNCOMPRESSED_BYTES:,} (is it a zip bomb?)"
            )
        if "xl/workbook.xml" not in archive.namelist():
            raise FileRejected("this zip archive is not an Excel (.xlsx) workbook")


def _read_xlsx(data: bytes) -> ParsedFile:
    # Imported here: openpyxl is only needed for XLSX uploads.
    from openpyxl import load_workbook

    _check_zip(data)
    try:
        # openpyxl parses XML with defusedxml when it is installed (it is a dependency),
        # so entity expansion bombs are refused too.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise FileRejected(f"this .xlsx file cannot be read: {type(exc).__name__}") from None
    try:
        sheet: Any = workbook.worksheets[0]
        # The declared dimensions are not trusted: a forged one would pad every row.
        sheet.reset_dimensions()
        parsed = ParsedFile("xlsx", None, None, columns=[])

        def rows() -> Iterator[tuple[int, list[Any]]]:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if len(values) > MAX_COLUMNS:
                    raise FileRejected(
                        f"row {number} has {len(values)} cells; the limit is {MAX_COLUMNS}"
                    )
                yield number, list(values)

        try:
            _collect(parsed, rows())
        except FileRejected:
            raise
        except Exception as exc:
            raise FileRejected(f"this .xlsx file cannot be read: {type(exc).__name__}") from None
        return parsed
    finally:
        workbook.close()


# -- both ------------------------------------------------------------------------


def _collect(parsed: ParsedFile, rows: Iterator[tuple[int, list[Any]]]) -> None:
    """Fill `parsed` from raw rows: header first, then non-empty rows, within limits."""
    for number, raw in rows:
        cells = [cell_text(cell) for cell in raw]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if len(cells) > MAX_COLUMNS:
            raise FileRejected(f"row {number} has {len(cells)} cells; the limit is {MAX_COLUMNS}")
        if any(len(cell) > MAX_CELL_CHARS for cell in cells):
            raise FileRejected(f"row {number} has a cell longer than {MAX_CELL_CHARS:,} characters")
        if not parsed.columns:
            parsed.columns = [_column_name(cell) for cell in cells]
            continue
        if len(parsed.rows) >= MAX_ROWS:
            raise FileRejected(f"too many rows: the limit is {MAX_ROWS:,} datasets per file")
        parsed.rows.append((number, cells))
    if not parsed.columns:
        raise FileRejected("the file has no header row")


def _column_name(cell: str) -> str:
    return cell.replace("\ufeff", "").strip().lower()
