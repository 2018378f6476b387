"""GLUE-style tabular text files (TSV / CSV with a header row), e.g. SST-2's ``train.tsv``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from deebert_export.data.examples import DataError, Example


def load_tabular(path: Path, text_column: str | None = None, label_column: str = "label") -> list[Example]:
    """Read a TSV (``.tsv``) or CSV (``.csv``) file with a header row into examples.

    TSV files are read as GLUE ships them: tab-separated, no quoting (``csv.QUOTE_NONE``), so a
    ``"`` inside a sentence is an ordinary character. CSV files use standard CSV quoting.

    Args:
        path: the file; its extension picks the format. A UTF-8 BOM is accepted.
        text_column: header of the text column; default ``"sentence"`` if present, else ``"text"``.
        label_column: header of the label column.

    Returns:
        One example per data row, in file order. ``id`` is ``"<file name>:<line number>"``
        (1-based, the header is line 1), ``text`` the stripped text field, ``label`` the stripped
        label field.

    Raises:
        DataError: unknown extension, empty file, bytes that are not UTF-8 (line and byte offset
            given), missing text/label column, a row with the wrong number of fields, an empty
            text or label.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".tsv", ".csv"):
        raise DataError(f"{path}: unknown extension '{path.suffix}'; expected .tsv or .csv")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path}: file is empty")
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(
            f"{path}:{line}: not UTF-8: byte 0x{raw[e.start]:02x} at byte offset {e.start}"
        ) from e

    if suffix == ".tsv":
        reader = csv.reader(io.StringIO(content, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as e:
        raise DataError(f"{path}:1: cannot read header ({e})") from e

    if text_column is None:
        text_column = "sentence" if "sentence" in header else "text"
    for column in (text_column, label_column):
        if column not in header:
            raise DataError(f"{path}: missing column '{column}'; header has {header}")
    text_idx, label_idx = header.index(text_column), header.index(label_column)

    examples = []
    try:
        for row in reader:
            line = reader.line_num
            if len(row) != len(header):
                raise DataError(
                    f"{path}:{line}: expected {len(header)} fields ({header}), found {len(row)}"
                )
            text, label = row[text_idx].strip(), row[label_idx].strip()
            if not text:
                raise DataError(f"{path}:{line}: empty text in column '{text_column}'")
            if not label:
                raise DataError(f"{path}:{line}: empty label in column '{label_column}'")
            examples.append(Example(id=f"{path.name}:{line}", text=text, label=label))
    except csv.Error as e:
        raise DataError(f"{path}:{reader.line_num}: malformed row ({e})") from e
    if not examples:
        raise DataError(f"{path}: header only, no data rows")
    return examples
