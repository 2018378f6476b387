"""Tokenisation with the model's own ``tokenizer.json`` (Hugging Face ``tokenizers``).

The Java runtime reads the same file with DJL's Hugging Face tokenizer; both truncate to
``max_seq_length`` tokens (including [CLS] and [SEP]) and pad nothing: batches are padded here (and in
Java) to their longest member with id 0 and attention mask 0.

Sentence pairs are encoded as BERT does, ``[CLS] text [SEP] text_pair [SEP]``, with token type ids 0 for
``[CLS]``, the first text and the first ``[SEP]`` and 1 for the second text and its ``[SEP]``; both texts
together are truncated to ``max_seq_length`` longest-first (the longer one loses tokens first), which is
``tokenizers``' default strategy and DJL's ``truncation=true``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from tokenizers import Tokenizer


#: The model card's key for what a model reads (``docs/export-format.md``): ``{"text_pair": bool}``.
CARD_INPUT = "input"


def card_input(text_pair: bool) -> dict:
    """The model card's ``input`` section: ``{"text_pair": true}`` for a sentence-pair model."""
    return {"text_pair": bool(text_pair)}


def expects_text_pair(card: dict) -> bool:
    """Whether a model card's model classifies sentence pairs (``input.text_pair``); cards written
    before pairs existed have no ``input`` and are single-text models."""
    return bool(card.get(CARD_INPUT, {}).get("text_pair", False))


def load_tokenizer(path: Path, max_seq_length: int) -> Tokenizer:
    """Loads ``tokenizer.json`` with truncation to ``max_seq_length`` tokens and no padding.

    Raises:
        FileNotFoundError: if the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"tokenizer file not found: {path}")
    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(max_length=max_seq_length)
    tok.no_padding()
    return tok


def encode(tokenizer: Tokenizer, texts: list[str]) -> list[list[int]]:
    """Token ids per text (with [CLS]/[SEP]), each at most the tokenizer's truncation length."""
    return [e.ids for e in tokenizer.encode_batch(texts)]


def encode_pairs(tokenizer: Tokenizer, texts: list[str], text_pairs: list[str]) -> tuple[list[list[int]], list[list[int]]]:
    """Token ids and token type ids of each sentence pair (see the module docstring).

    Returns:
        ``(ids, type_ids)``: per pair, equally long lists of at most the truncation length.
    Raises:
        ValueError: if ``texts`` and ``text_pairs`` differ in length.
    """
    if len(texts) != len(text_pairs):
        raise ValueError(f"{len(texts)} texts but {len(text_pairs)} text pairs")
    encodings = tokenizer.encode_batch(list(zip(texts, text_pairs)))
    return [e.ids for e in encodings], [e.type_ids for e in encodings]


def encode_examples(tokenizer: Tokenizer, examples, text_pair: bool) -> tuple[list[list[int]], list[list[int]] | None]:
    """Token ids of examples (:class:`deebert_export.data.Example`), and their token type ids when
    ``text_pair`` (a sentence-pair model) or ``None`` (single texts: the model adds token type 0).

    Raises:
        DataError: ``text_pair`` and an example disagree on having a ``text_pair``.
    """
    from .data.examples import DataError
    examples = list(examples)
    odd = [e.id for e in examples if (e.text_pair is not None) != text_pair]
    if odd:
        raise DataError(f"{len(odd)} examples (e.g. {odd[0]!r}) "
                         f"{'lack a text_pair for a sentence-pair model' if text_pair else 'have a text_pair for a single-text model'}")
    if not text_pair:
        return encode(tokenizer, [e.text for e in examples]), None
    return encode_pairs(tokenizer, [e.text for e in examples], [e.text_pair for e in examples])


def pad_batch(ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Right-pads to the longest sequence.

    Returns:
        (input_ids, attention_mask): both int32 (B, T) with T = longest length in ``ids``.
    """
    T = max(len(x) for x in ids)
    input_ids = np.zeros((len(ids), T), dtype=np.int32)
    mask = np.zeros((len(ids), T), dtype=np.int32)
    for r, x in enumerate(ids):
        input_ids[r, : len(x)] = x
        mask[r, : len(x)] = 1
    return input_ids, mask


def padded_inputs(ids: list[list[int]], type_ids: list[list[int]] | None, rows) -> list[np.ndarray]:
    """The model inputs of the examples ``rows``, right-padded: ``[input_ids, attention_mask]``, plus
    ``token_type_ids`` (padded with 0) when ``type_ids`` is not ``None``; each int32 (B, T)."""
    input_ids, mask = pad_batch([ids[r] for r in rows])
    if type_ids is None:
        return [input_ids, mask]
    return [input_ids, mask, pad_batch([type_ids[r] for r in rows])[0]]


def length_sorted_batches(ids: list[list[int]], batch_size: int) -> list[np.ndarray]:
    """Row indices grouped into batches of similar length (less padding), in a fixed order."""
    order = np.argsort([len(x) for x in ids], kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
