"""Tokenisation with the model's own ``tokenizer.json`` (Hugging Face ``tokenizers``).

The Java runtime reads the same file with DJL's Hugging Face tokenizer; both truncate to
``max_seq_length`` tokens (including [CLS] and [SEP]) and pad nothing: batches are padded here (and in
Java) to their longest member with id 0 and attention mask 0.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from tokenizers import Tokenizer


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


def length_sorted_batches(ids: list[list[int]], batch_size: int) -> list[np.ndarray]:
    """Row indices grouped into batches of similar length (less padding), in a fixed order."""
    order = np.argsort([len(x) for x in ids], kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
