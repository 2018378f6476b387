"""The ``Example`` record shared by every data source, and its JSONL file format."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable


class DataError(ValueError):
    """Bad input data: the message names the file (and line, where known) and the problem."""


@dataclass(frozen=True)
class Example:
    """One labelled text, or one labelled pair of texts.

    Attributes:
        id: stable identifier that points back to the source, e.g.
            ``"spam-1/00001.7848dde101aa985090474a91ec93fcf0"`` (SpamAssassin group/file stem)
            or ``"train.tsv:17"`` (tabular file name and 1-based line number).
        text: the text the model sees (already cleaned).
        label: the label NAME (``"ham"``/``"spam"``, ``"0"``/``"1"`` for SST-2), not an index.
        text_pair: the second text of a sentence-pair task (tokenised as BERT does:
            ``[CLS] text [SEP] text_pair [SEP]``, token type 0 then 1), or ``None`` for a
            single-text task. A data set is all pairs or all single texts.
    """

    id: str
    text: str
    label: str
    text_pair: str | None = None


_FIELDS = ("id", "text", "label")


def write_jsonl(path: Path | str, examples: Iterable[Example]) -> None:
    """Write examples as JSON Lines, one ``{"id", "text", "label"}`` object per line, plus
    ``"text_pair"`` for an example that has one (single-text files are unchanged).

    Args:
        path: output file; parent directories are created. Written as UTF-8 with
            ``ensure_ascii=False`` so non-ASCII text stays readable.
        examples: the examples, written in the given order.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for ex in examples:
            obj = {"id": ex.id, "text": ex.text, "label": ex.label}
            if ex.text_pair is not None:
                obj["text_pair"] = ex.text_pair
            out.write(json.dumps(obj, ensure_ascii=False))
            out.write("\n")


def read_jsonl(path: Path | str) -> list[Example]:
    """Read a file written by :func:`write_jsonl`.

    Args:
        path: a UTF-8 JSON Lines file; blank lines are ignored.

    Returns:
        The examples in file order.

    Raises:
        DataError: the file is not UTF-8, a line is not a JSON object, or an object lacks one of
            ``id``/``text``/``label`` or has a non-string value, or a ``text_pair`` that is
            neither a string nor null (message names file and line).
    """
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 at byte offset {e.start}") from e
    examples = []
    for lineno, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{lineno}: not valid JSON ({e.msg})") from e
        if not isinstance(obj, dict):
            raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
        for field in _FIELDS:
            if not isinstance(obj.get(field), str):
                raise DataError(f"{path}:{lineno}: field '{field}' missing or not a string")
        text_pair = obj.get("text_pair")
        if text_pair is not None and not isinstance(text_pair, str):
            raise DataError(f"{path}:{lineno}: field 'text_pair' is not a string (nor null)")
        examples.append(Example(id=obj["id"], text=obj["text"], label=obj["label"], text_pair=text_pair))
    return examples


def pair_task(examples: Iterable[Example], source: str = "") -> bool:
    """Whether the examples are a sentence-pair task: True when every example has a ``text_pair``,
    False when none has.

    Raises:
        DataError: some examples have a ``text_pair`` and others do not (names the first of the minority).
    """
    examples = list(examples)
    with_pair = [ex for ex in examples if ex.text_pair is not None]
    if not with_pair or len(with_pair) == len(examples):
        return bool(with_pair) and bool(examples)
    without = [ex for ex in examples if ex.text_pair is None]
    where = f" in {source}" if source else ""
    if len(without) <= len(with_pair):
        odd = f"example '{without[0].id}' has no text_pair while {len(with_pair)} others{where} have one"
    else:
        odd = f"example '{with_pair[0].id}' has a text_pair while {len(without)} others{where} have none"
    raise DataError(f"{odd}: a data set is all sentence pairs or all single texts")
