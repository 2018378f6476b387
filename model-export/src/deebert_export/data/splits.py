"""Deduplication, stratified train/dev/test splitting and label checks."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Iterable, Sequence

from sklearn.model_selection import train_test_split

from deebert_export.data.examples import DataError, Example

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")


def dedup_key(text: str) -> str:
    """The text with all whitespace runs collapsed to one space and stripped: the identity used
    for duplicate detection, so re-wrapped copies of one message count as the same text."""
    return " ".join(text.split())


def example_key(ex: Example) -> str:
    """The identity of an example's input for duplicate and overlap checks: :func:`dedup_key` of its
    text, and for a sentence pair of both texts (so two pairs are duplicates only if both texts are)."""
    if ex.text_pair is None:
        return dedup_key(ex.text)
    return dedup_key(ex.text) + "\x00" + dedup_key(ex.text_pair)


def deduplicate(examples: Iterable[Example]) -> tuple[list[Example], int]:
    """Drop exact duplicate inputs (:func:`example_key`: texts after whitespace normalisation),
    keeping the first.

    A text that occurs with two or more different labels is dropped entirely, every copy:
    no label is right for it, and keeping one would put a contradiction into training or eval.

    Args:
        examples: the examples, in a meaningful order (the first copy wins).

    Returns:
        ``(kept, n_dropped)``: kept examples in input order, and how many were removed
        (duplicate copies plus every copy of an ambiguous text).
    """
    examples = list(examples)
    labels_by_key: dict[str, set[str]] = {}
    for ex in examples:
        labels_by_key.setdefault(example_key(ex), set()).add(ex.label)
    ambiguous = {k for k, labels in labels_by_key.items() if len(labels) > 1}

    kept, seen = [], set()
    for ex in examples:
        key = example_key(ex)
        if key in ambiguous or key in seen:
            continue
        seen.add(key)
        kept.append(ex)
    if ambiguous:
        log.info("dropped %d texts that occur with conflicting labels", len(ambiguous))
    return kept, len(examples) - len(kept)


def stratified_split(
    examples: Sequence[Example],
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 13,
) -> dict[str, list[Example]]:
    """Split into train/dev/test with the same label proportions in each split.

    Two calls of ``sklearn.model_selection.train_test_split`` (train vs rest, then dev vs test),
    both stratified by label and seeded, so the result depends only on the input order and seed.

    Args:
        examples: the examples to split.
        fractions: (train, dev, test) shares, each > 0, summing to 1.
        seed: random seed.

    Returns:
        ``{"train": [...], "dev": [...], "test": [...]}`` (each in shuffled order).

    Raises:
        DataError: fractions are invalid, or a label is too rare to appear in every split.
    """
    examples = list(examples)
    if len(fractions) != 3 or any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise DataError(f"split fractions must be three positive numbers summing to 1, got {fractions}")
    train_frac, dev_frac, test_frac = fractions
    try:
        train, rest = train_test_split(
            examples, test_size=dev_frac + test_frac, random_state=seed,
            stratify=[e.label for e in examples])
        dev, test = train_test_split(
            rest, test_size=test_frac / (dev_frac + test_frac), random_state=seed,
            stratify=[e.label for e in rest])
    except ValueError as e:
        counts = dict(Counter(e_.label for e_ in examples))
        raise DataError(f"cannot split {len(examples)} examples (labels {counts}) "
                        f"with fractions {fractions}: {e}") from e
    return {"train": train, "dev": dev, "test": test}


def check_labels(examples: Iterable[Example], labels: list[str], source: str = "") -> None:
    """Fail if any example's label is not in ``labels``.

    Args:
        examples: examples to check.
        labels: the allowed label names.
        source: where the examples come from (e.g. ``"dev split"`` or a file path), for the message.

    Raises:
        DataError: one line naming the first unknown label, the id of the example carrying it (for
            tabular data the file and line), how many examples have unknown labels, the allowed
            labels and the fix (``--labels``).
    """
    allowed = set(labels)
    bad = [ex for ex in examples if ex.label not in allowed]
    if bad:
        where = f" in {source}" if source else ""
        raise DataError(
            f"unknown label '{bad[0].label}'{where} at example '{bad[0].id}' "
            f"({len(bad)} example(s) with unknown labels); expected one of {list(labels)}: "
            f"fix the row, or list every label in order with --labels")


def subject_splits(
    splits: dict[str, list[Example]],
    subjects: dict[str, str],
) -> tuple[dict[str, list[Example]], dict]:
    """The short-text data set: each split's messages replaced by their subject lines alone.

    The messages keep the split they have in the full-message data set (same dedup, seed and
    fractions), so a subject model and a message model are evaluated on the same test messages,
    minus those dropped here:

    - a message with no subject (``""`` or no visible character) is dropped;
    - subjects are deduplicated by :func:`dedup_key` like the corpus reader's texts, the first copy
      kept, in split order ``train``, ``dev``, ``test``. Identical subjects are common ("Re: your
      order", "hello", mailing-list digests): a copy in a later split is dropped, so a subject seen
      in training never reappears in dev or test, and none in dev reappears in test (keeping it
      would score memorised subjects as generalisation);
    - a subject that occurs with both labels anywhere in the corpus is dropped everywhere, every
      copy, as :func:`deduplicate` does: no label is right for it.

    Dropping cross-split copies from the later split (not re-splitting by subject) keeps the
    message split fixed; it leaves dev and test with fewer, less frequent subjects, so their
    figures lean towards the harder, unseen ones.

    Args:
        splits: ``{"train", "dev", "test"}`` lists of full-message examples (ids as in ``subjects``).
        subjects: ``{example id: subject}`` (e.g. ``spamassassin.load_subjects``).

    Returns:
        ``(splits, stats)``: examples with ``text`` = subject, ids and labels unchanged; ``stats``
        = ``{"no_subject", "conflicting_labels", "duplicates_within_split", "duplicates_across_splits"}``,
        each ``{split: n dropped}``.

    Raises:
        DataError: an example id has no entry in ``subjects``.
    """
    from deebert_export.texts import is_empty_text
    stats: dict = {k: {name: 0 for name in SPLITS}
                   for k in ("no_subject", "conflicting_labels", "duplicates_within_split", "duplicates_across_splits")}
    with_subject: dict[str, list[Example]] = {}
    labels_by_key: dict[str, set[str]] = {}
    for name in SPLITS:
        with_subject[name] = []
        for ex in splits[name]:
            if ex.id not in subjects:
                raise DataError(f"no subject read for message '{ex.id}' ({name} split)")
            subject = subjects[ex.id]
            if is_empty_text(subject):
                stats["no_subject"][name] += 1
                continue
            with_subject[name].append(Example(id=ex.id, text=subject, label=ex.label))
            labels_by_key.setdefault(dedup_key(subject), set()).add(ex.label)
    ambiguous = {k for k, labels in labels_by_key.items() if len(labels) > 1}

    out: dict[str, list[Example]] = {}
    seen_in: dict[str, str] = {}   # dedup key -> the split of its first copy
    for name in SPLITS:
        out[name] = []
        for ex in with_subject[name]:
            key = dedup_key(ex.text)
            if key in ambiguous:
                stats["conflicting_labels"][name] += 1
            elif key in seen_in:
                stats["duplicates_within_split" if seen_in[key] == name else "duplicates_across_splits"][name] += 1
            else:
                seen_in[key] = name
                out[name].append(ex)
    return out, stats
