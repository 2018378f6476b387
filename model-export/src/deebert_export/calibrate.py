"""``calibrate``: per exit policy, the cheapest setting that keeps dev accuracy within a budget, written
into an exported model's card under ``calibrated``, with the chosen setting's and the full model's dev
figures per class (precision, recall, F1, macro-F1, confusion matrix).

For each policy the search picks the setting with the highest expected saving (DeeBERT eq. 2,
:func:`exits.expected_saving`) whose dev accuracy is at most ``max_accuracy_loss`` **percentage points**
below the full model's dev accuracy (every input through the last off-ramp). Only the dev split is
used, and the model's off-ramp logits on it are computed once; every candidate setting then only
decides which off-ramp's row counts.

Candidates (so the search is exhaustive, not a grid):

- ``entropy`` / ``divergence``: S = 0 (no early exit), every distinct score observed on dev at layers
  1..n-1 (nats), and one value just above the largest of them. Exit is ``score < S`` (strict), so any S
  between two consecutive observed scores behaves like the upper one, S equal to the largest score
  still keeps that input, and only the value just above it lets every input out at its first chance.
  Scores at layer n never matter (the last off-ramp takes whoever is left), nor do divergence's +inf
  at layer 1.
- ``patience``: t = 1..n (layers); t = n never exits early.

The full model's setting (S = 0, t = n) always meets any budget >= 0, so every policy gets a result.
Ties on saving go to the higher dev accuracy, then to the more conservative setting (smaller S,
larger t).
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import exits
from .data.examples import DataError, Example, pair_task, read_jsonl

CARD_FILE = "model_card.json"  # same name as export.CARD_FILE; not imported so this module needs no TF
#: The card key this command writes; no other key is changed (``recommended_threshold`` only with
#: ``set_recommended``).
CARD_KEY = "calibrated"


def candidate_settings(scores: np.ndarray, policy: str) -> list[float]:
    """Every setting worth trying for one policy (see the module docstring), ascending.

    Args:
        scores: float64 (N, n) from :func:`exits.exit_scores` for ``policy`` (nats, or layers for patience).
        policy: ``entropy``, ``divergence`` or ``patience``.
    Returns:
        S values in nats (0 first), or patience values 1..n in layers.
    """
    n = scores.shape[1]
    if policy == exits.PATIENCE:
        return [float(t) for t in range(1, n + 1)]
    early = scores[:, : n - 1]
    observed = np.unique(early[np.isfinite(early)])
    values = {0.0, *(float(v) for v in observed)}
    if len(observed):
        values.add(float(np.nextafter(observed[-1], np.inf)))
    return sorted(values)


def evaluate_setting(all_logits: np.ndarray, scores: np.ndarray, labels: np.ndarray,
                     setting: exits.ExitSetting) -> dict:
    """Dev accuracy (fraction), exit histogram (inputs per exit layer 1..n) and expected saving (eq. 2)
    of one setting, from precomputed logits (N, n, C) and scores (N, n)."""
    n = all_logits.shape[1]
    layer = exits.exit_layers_from_scores(scores, setting)
    pred = all_logits[np.arange(len(layer)), layer - 1].argmax(axis=-1)
    return {"accuracy": float((pred == labels).mean()),
            "exit_histogram": np.bincount(layer, minlength=n + 1)[1:].tolist(),
            "expected_saving": exits.expected_saving(layer, n)}


def within_budget(accuracy: float, full_accuracy: float, max_accuracy_loss: float) -> bool:
    """Whether ``accuracy`` (fraction) is at most ``max_accuracy_loss`` percentage points below
    ``full_accuracy`` (fraction). A 1e-9-point slack absorbs float rounding of count / N, so a loss of
    exactly the budget counts as within it."""
    return (full_accuracy - accuracy) * 100.0 <= max_accuracy_loss + 1e-9


def calibrate_policy(all_logits: np.ndarray, labels: np.ndarray, policy: str, max_accuracy_loss: float,
                     label_names: list[str] | None = None) -> dict:
    """The cheapest setting of one policy within the accuracy budget, on the given (dev) logits.

    Args:
        all_logits: float (N, n, C), every off-ramp's logits on dev.
        labels: int (N,), gold label indices.
        policy: ``entropy``, ``divergence`` or ``patience``.
        max_accuracy_loss: budget in percentage points (0.5 = half a point), finite and >= 0.
        label_names: the task's labels in logits order; when given, the result also has ``dev_classes``
            and ``full_dev_classes``: :func:`evaluate.class_metrics` of the chosen setting and of the
            full model on dev (per-class precision/recall/F1, macro-F1, confusion matrix).
    Returns:
        ``{"policy", "value", "dev_accuracy", "full_dev_accuracy", "accuracy_loss_points",
        "dev_expected_saving", "exit_histogram", "candidates"}`` (+ the two above); ``value`` is S in
        nats, or the patience t (int, layers).
    Raises:
        ValueError: unknown policy, a negative or non-finite budget, or no inputs.
    """
    if not math.isfinite(max_accuracy_loss) or max_accuracy_loss < 0:
        raise ValueError(f"max accuracy loss must be a finite number >= 0 (percentage points), got {max_accuracy_loss}")
    all_logits, labels = np.asarray(all_logits), np.asarray(labels)
    if len(all_logits) == 0:
        raise ValueError("calibration needs at least one dev input")
    full = float((all_logits[:, -1].argmax(axis=-1) == labels).mean())
    scores = exits.exit_scores(all_logits, policy)
    values = candidate_settings(scores, policy)
    best, best_key = None, None
    for v in values:
        row = evaluate_setting(all_logits, scores, labels, exits.ExitSetting(policy, v))
        if not within_budget(row["accuracy"], full, max_accuracy_loss):
            continue
        conservative = v if policy == exits.PATIENCE else -v
        key = (row["expected_saving"], row["accuracy"], conservative)
        if best_key is None or key > best_key:
            best, best_key = dict(row, value=v), key
    value = int(best["value"]) if policy == exits.PATIENCE else best["value"]
    result = {"policy": policy, "value": value, "dev_accuracy": best["accuracy"], "full_dev_accuracy": full,
              "accuracy_loss_points": (full - best["accuracy"]) * 100.0,
              "dev_expected_saving": best["expected_saving"], "exit_histogram": best["exit_histogram"],
              "candidates": len(values)}
    if label_names is not None:
        result.update(setting_classes(all_logits, scores, labels, exits.ExitSetting(policy, best["value"]), label_names))
    return result


def setting_classes(all_logits: np.ndarray, scores: np.ndarray, labels: np.ndarray, setting: exits.ExitSetting,
                    label_names: list[str]) -> dict:
    """``{"dev_classes", "full_dev_classes"}``: :func:`evaluate.class_metrics` of ``setting`` and of the
    full model (every input through the last off-ramp) on the given dev logits (N, n, C), scores (N, n)
    and gold indices (N,)."""
    from .evaluate import class_metrics
    layer = exits.exit_layers_from_scores(scores, setting)
    pred = all_logits[np.arange(len(layer)), layer - 1].argmax(axis=-1)
    return {"dev_classes": class_metrics(labels, pred, label_names),
            "full_dev_classes": class_metrics(labels, all_logits[:, -1].argmax(axis=-1), label_names)}


def read_dev_file(path: Path, labels: list[str], text_pair: bool = False) -> list[Example]:
    """Dev examples from a prepared ``dev.jsonl`` (``{"id", "text", "label"}`` lines, plus
    ``"text_pair"`` for a sentence-pair model) or a TSV/CSV file with a header (``sentence``/``text``
    and ``label`` columns, plus ``text_pair`` for a sentence-pair model).

    Args:
        text_pair: whether the model classifies sentence pairs (card ``input.text_pair``).
    Raises:
        DataError: missing, empty or unreadable file, a label outside the card's ``labels``, or examples
            that are (not) sentence pairs for a (single-text) sentence-pair model.
    """
    from .data.splits import check_labels
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: dev file not found; give --dev-file FILE (.jsonl, .tsv or .csv)")
    if path.suffix in (".tsv", ".csv"):
        from .data.tabular import load_tabular
        examples = load_tabular(path, text_pair_column="text_pair" if text_pair else None)
    else:
        examples = read_jsonl(path)
    if not examples:
        raise DataError(f"{path}: no dev examples")
    if pair_task(examples, source=str(path)) != text_pair:
        raise DataError(f"{path}: the model card says input.text_pair {str(text_pair).lower()} but the dev examples "
                        f"{'have no' if text_pair else 'have a'} text_pair")
    check_labels(examples, labels, source=str(path))
    return examples


def default_dev_file(model_dir: Path, work_dir: Path | None) -> Path:
    """``WORK_DIR/data/dev.jsonl``: the given work dir, else the one ``export_config.json`` names
    (its ``data_dir``; a relative one is relative to the model-export directory).

    Raises:
        ValueError: neither is known (the CLI reports it as a usage error asking for --dev-file).
    """
    if work_dir is not None:
        return Path(work_dir) / "data" / "dev.jsonl"
    config = Path(model_dir) / "export_config.json"
    data_dir = json.loads(config.read_text()).get("data_dir") if config.is_file() else None
    if not data_dir:
        raise ValueError(f"{model_dir}: export_config.json names no data_dir; give --dev-file or --work-dir")
    from .card import MODEL_EXPORT_DIR
    # Exports write it relative to model-export/ (card.portable); older ones wrote it absolute.
    return MODEL_EXPORT_DIR / data_dir / "dev.jsonl"


def dev_logits(model_dir: Path, examples: list[Example], labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The exported model's own off-ramp logits on the dev texts, float32 (N, n, C), with its stored
    weights and tokenizer (truncated at the card's ``max_seq_length``), and gold indices int (N,)."""
    from . import pipeline  # TensorFlow: only once the options and the dev file are known to be good
    from .export import load_exported_model
    from .tokenization import encode_examples, expects_text_pair, load_tokenizer

    card = json.loads((Path(model_dir) / CARD_FILE).read_text())
    tok = load_tokenizer(Path(model_dir) / card["tokenizer"], card["max_seq_length"])
    ids, type_ids = encode_examples(tok, examples, expects_text_pair(card))
    model = load_exported_model(model_dir)
    return (pipeline.all_logits(model, ids, desc="calibrate dev", type_ids=type_ids),
            np.array([labels.index(e.label) for e in examples]))


def updated_card(card: dict, results: list[dict], provenance: dict, set_recommended: str | None,
                 protected_label: str | None = None) -> dict:
    """A copy of ``card`` with ``calibrated[policy]`` replaced for each result (other policies'
    entries kept), with ``set_recommended``, ``recommended_threshold`` set to that policy's
    calibrated setting, and with ``protected_label``, the card's ``protected_label`` set to it (the
    caller validates it). No other key changes.

    Raises:
        ValueError: ``set_recommended`` names a policy calibrated neither now nor before.
    """
    card = dict(card)
    if protected_label is not None:
        card["protected_label"] = protected_label
    calibrated = dict(card.get(CARD_KEY, {}))
    for r in results:
        calibrated[r["policy"]] = {**r, **provenance}
    card[CARD_KEY] = calibrated
    if set_recommended is not None:
        if set_recommended not in calibrated:
            raise ValueError(f"--set-recommended {set_recommended}: the card has no calibrated {set_recommended} "
                             f"setting; calibrate it too (--policy {set_recommended} or all)")
        c = calibrated[set_recommended]
        card["recommended_threshold"] = {
            "policy": c["policy"], "value": c["value"], "chosen_on": "dev",
            "rule": f"calibrate: largest expected saving with dev accuracy >= full model's dev accuracy "
                    f"- {c['max_accuracy_loss_points']} percentage points",
            "dev_accuracy": c["dev_accuracy"], "dev_expected_saving": c["dev_expected_saving"],
            **({"dev_classes": c["dev_classes"]} if "dev_classes" in c else {}),
            "date": c["date"], "command": c["command"]}
    return card


def write_json_atomically(path: Path, obj) -> None:
    """Writes JSON (indent 1, UTF-8, as export writes the card) to a temporary file beside ``path``
    and renames it over ``path``, so a reader (or a crash) never sees half a card."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(obj, indent=1, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def calibrate(model_dir: Path, policies: list[str], max_accuracy_loss: float, dev_file: Path,
              set_recommended: str | None = None, command: str = "", protected_label: str | None = None) -> dict:
    """Runs the search for each policy on ``dev_file`` and rewrites ``model_dir/model_card.json``
    atomically with the ``calibrated`` key (see :func:`updated_card`). Whether the directory may be
    written (``models/``) is the CLI's decision (``cli.check_model_out``).

    Args:
        model_dir: exported model directory.
        policies: policy names to calibrate.
        max_accuracy_loss: budget in percentage points.
        dev_file: dev examples (:func:`read_dev_file`).
        set_recommended: optional policy whose calibrated setting becomes ``recommended_threshold``.
        command: the command line, recorded in each entry.
        protected_label: one of the card's labels to record as the card's ``protected_label``, or None
            to keep the card's (each entry has every label's figures either way).
    Returns:
        The new card.
    Raises:
        DataError: bad dev file. ValueError: bad budget, an unknown ``protected_label``, or see
            :func:`updated_card`.
    """
    from .evaluate import check_label
    model_dir = Path(model_dir)
    card = json.loads((model_dir / CARD_FILE).read_text())
    check_label(protected_label, card["labels"])
    from .tokenization import expects_text_pair
    examples = read_dev_file(dev_file, card["labels"], expects_text_pair(card))
    logits, y = dev_logits(model_dir, examples, card["labels"])
    results = [calibrate_policy(logits, y, p, max_accuracy_loss, card["labels"]) for p in policies]
    provenance = {"max_accuracy_loss_points": max_accuracy_loss, "chosen_on": "dev", "dev_size": len(examples),
                  "dev_file": str(dev_file), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "command": command}
    new = updated_card(card, results, provenance, set_recommended, protected_label)
    from .card import write_card
    return write_card(model_dir / CARD_FILE, new)
