"""GLUE-style tabular text files (TSV / CSV), e.g. SST-2's ``train.tsv``: with a header row (columns
named) or without one (columns given by 0-based position, ``--no-header``)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from deebert_export.data.examples import DataError, Example
from deebert_export.texts import is_empty_text

# How the CLI spells the column options; every message below names them so the fix is one copy away.
HEADERLESS_HINT = "if the file has no header row, give --no-header --text-column N --label-column M (0-based)"


def _short(fields: list[str], limit: int = 80) -> str:
    """A row for an error message, cut so the message stays on one readable line."""
    text = repr(fields)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _column_index(value: str | int | None, option: str, path: Path) -> int:
    """0-based column position from ``value`` (``"1"`` or ``1``), for a header-less file."""
    try:
        index = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataError(f"{path}: --no-header needs {option} as a 0-based column number, got {value!r}; "
                        f"e.g. --no-header --text-column 0 --label-column 1") from None
    if index < 0:
        raise DataError(f"{path}: {option} must be >= 0, got {index}")
    return index


def load_tabular(path: Path, text_column: str | int | None = None, label_column: str | int | None = None,
                 header: bool = True, text_pair_column: str | int | None = None) -> list[Example]:
    """Read a TSV (``.tsv``) or CSV (``.csv``) file into examples.

    TSV files are read as GLUE ships them: tab-separated, no quoting (``csv.QUOTE_NONE``), so a
    ``"`` inside a sentence is an ordinary character. CSV files use standard CSV quoting.

    Args:
        path: the file; its extension picks the format. A UTF-8 BOM is accepted.
        text_column: with a header, the text column's name (default ``"sentence"`` if present, else
            ``"text"``); without one, its 0-based position (``"0"`` or ``0``; required).
        label_column: with a header, the label column's name (default ``"label"``); without one,
            its 0-based position (required).
        header: whether line 1 is a header row. A header-less file read with ``header=True`` fails
            on the missing column with a message that says how to read it without one.
        text_pair_column: for a sentence-pair task, the second text's column: a name with a header,
            a 0-based position without one; ``None`` (default) for single-text data.

    Returns:
        One example per data row, in file order. ``id`` is ``"<file name>:<line number>"``
        (1-based, so with a header the first data row is line 2), ``text`` the stripped text field,
        ``label`` the stripped label field, ``text_pair`` the stripped second text (or ``None``).

    Raises:
        DataError: one line naming the file (and line where there is one) and the fix, for a missing
            file, unknown extension, empty file, bytes that are not UTF-8 (line and byte offset
            given), missing text/label column, a header-less file read as if it had a header, a row
            with the wrong number of fields, an empty text or text pair (no visible character:
            :func:`deebert_export.texts.is_empty_text`) or an empty label; a text pair column that
            is also the text or label column.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".tsv", ".csv"):
        raise DataError(f"{path}: unknown extension '{path.suffix}'; expected .tsv (tab-separated) or .csv")
    if not path.is_file():
        raise DataError(f"{path}: file not found; check the path (relative paths start at the current directory)")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path}: file is empty; expected {'a header row and ' if header else ''}"
                        f"one example per line")
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not UTF-8: byte 0x{raw[e.start]:02x} at byte offset {e.start}; "
                        f"re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)") from e

    if suffix == ".tsv":
        reader = csv.reader(io.StringIO(content, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(io.StringIO(content, newline=""))

    if header:
        try:
            names = [h.strip() for h in next(reader)]
        except csv.Error as e:
            raise DataError(f"{path}:1: cannot read the header row ({e})") from e
        if text_column is None:
            text_column = "sentence" if "sentence" in names else "text"
        if label_column is None:
            label_column = "label"
        options = [("--text-column", text_column), ("--label-column", label_column)]
        if text_pair_column is not None:
            options.append(("--text-pair-column", text_pair_column))
        for option, column in options:
            if column not in names:
                raise DataError(f"{path}:1: missing column '{column}': the header row is {_short(names)}; "
                                f"name the column with {option}, or {HEADERLESS_HINT}")
        width, columns = len(names), names
        text_idx, label_idx = names.index(text_column), names.index(label_column)
        pair_idx = None if text_pair_column is None else names.index(text_pair_column)
    else:
        text_idx = _column_index(text_column, "--text-column", path)
        label_idx = _column_index(label_column, "--label-column", path)
        pair_idx = None if text_pair_column is None else _column_index(text_pair_column, "--text-pair-column", path)
        # Without a header the first row fixes the width; every later row must match it.
        width, columns = None, None
    used = [("--text-column", text_idx), ("--label-column", label_idx)]
    if pair_idx is not None:
        used.append(("--text-pair-column", pair_idx))
    for i, (option, index) in enumerate(used):
        for other, other_index in used[i + 1:]:
            if index == other_index:
                column = repr(columns[index]) if columns else index
                raise DataError(f"{path}: {option} and {other} are both column {column}; each needs its own column")
    last_idx = max(index for _, index in used)

    examples = []
    try:
        for row in reader:
            line = reader.line_num
            if width is None:
                width = len(row)
                if last_idx >= width:
                    raise DataError(f"{path}:{line}: has {width} fields, so column "
                                    f"{last_idx} does not exist; columns are numbered from 0")
            if len(row) != width:
                described = f"{width} fields ({_short(columns)})" if columns else f"{width} fields like line 1"
                raise DataError(f"{path}:{line}: expected {described}, found {len(row)}; "
                                f"a stray tab or comma in the text? fix or remove the row")
            text, label = row[text_idx].strip(), row[label_idx].strip()
            if is_empty_text(text):
                raise DataError(f"{path}:{line}: empty text in column '{text_column}'; fix or remove the row")
            if not label:
                raise DataError(f"{path}:{line}: empty label in column '{label_column}'; fix or remove the row")
            text_pair = None
            if pair_idx is not None:
                text_pair = row[pair_idx].strip()
                if is_empty_text(text_pair):
                    raise DataError(f"{path}:{line}: empty text pair in column '{text_pair_column}'; "
                                    f"fix or remove the row")
            examples.append(Example(id=f"{path.name}:{line}", text=text, label=label, text_pair=text_pair))
    except csv.Error as e:
        raise DataError(f"{path}:{reader.line_num}: malformed row ({e}); fix or remove the row") from e
    if not examples:
        raise DataError(f"{path}: header only, no data rows")
    return examples
