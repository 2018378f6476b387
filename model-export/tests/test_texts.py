"""The one rule for an empty text (no visible character), against the golden file Java's
``EmptyText`` is checked against too, and where the data loaders apply it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deebert_export.data.examples import DataError
from deebert_export.data.tabular import load_tabular
from deebert_export.texts import is_empty_text

GOLDEN = Path(__file__).resolve().parent / "golden" / "empty_texts.json"
CASES = json.loads(GOLDEN.read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_is_empty_text_agrees_with_the_golden_file(case):
    assert is_empty_text(case["text"]) is case["empty"]


def test_golden_file_covers_both_answers():
    assert {c["empty"] for c in CASES} == {True, False}


def test_none_is_empty():
    assert is_empty_text(None)


@pytest.mark.parametrize("cell", ["\u200b\u200d", "\u00a0\u202f", "\u3000", "\u200f\u2066\u2069", "\u3164"])
def test_load_tabular_rejects_a_text_or_text_pair_without_visible_character(tmp_path, cell):
    # Python's str.strip() leaves zero-width and bidi characters and Hangul fillers in place.
    path = tmp_path / "invisible.tsv"
    path.write_text(f"sentence\tlabel\n{cell}\t1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"invisible\.tsv:2: empty text in column 'sentence'"):
        load_tabular(path)
    pair = tmp_path / "invisible-pair.tsv"
    pair.write_text(f"sentence\tlabel\tpair\nok\t1\t{cell}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"invisible-pair\.tsv:2: empty text pair in column 'pair'"):
        load_tabular(pair, text_pair_column="pair")


def test_load_tabular_keeps_a_visible_text_surrounded_by_invisible_characters(tmp_path):
    path = tmp_path / "visible.tsv"
    path.write_text("sentence\tlabel\n\u200b\u4e2d\u200b\t1\n", encoding="utf-8")
    assert [e.text for e in load_tabular(path)] == ["\u200b\u4e2d\u200b"]
