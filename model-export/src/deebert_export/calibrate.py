"""The ``calibrate`` command: choose an exit setting on an exported model's dev split and record it in
its card.

- ``--max-accuracy-loss POINTS``: per exit policy, the cheapest setting (highest expected saving, DeeBERT
  eq. 2) whose dev accuracy is at most POINTS percentage points below the full model's
  (:func:`selection.calibrate_policy`), written under ``calibrated`` with the chosen setting's and the
  full model's dev figures per class (precision, recall, F1, macro-F1, confusion matrix).
- ``--max-recall-loss LABEL:POINTS``: the cheapest setting of any rule (entropy, divergence, patience, or
  per-label entropy/divergence thresholds) that keeps the protected label's dev recall, and every other
  label's, within bounds (:func:`selection.calibrate_protected`), written under ``protected_calibration``.

This module is the command's side: reading the dev file, running the exported model on it once (every
candidate setting then only decides which off-ramp's row counts), the tables it prints and the card it
rewrites. The searches, their candidates and budget checks are :mod:`deebert_export.selection`; every
budget is in percentage points.
"""
from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import exits
from .data.examples import DataError, Example, pair_task, read_jsonl
from .selection import (DEFAULT_MAX_FALSE_ALARM_INCREASE_PT, RULES, calibrate_policy, calibrate_protected, figures,
                        loss_points, setting_of, setting_row)

CARD_FILE = "model_card.json"  # same name as export.CARD_FILE; not imported so this module needs no TF
#: The card key this command writes; no other key is changed (``recommended_threshold`` only with
#: ``set_recommended``).
CARD_KEY = "calibrated"


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
    from .card import paths_base
    # Exports write it relative to model-export/ (card.portable); older ones wrote it absolute.
    return paths_base() / data_dir / "dev.jsonl"


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


def calibrate(model_dir: Path, policies: list[str], max_accuracy_loss_pt: float, dev_file: Path,
              set_recommended: str | None = None, command: str = "", protected_label: str | None = None) -> dict:
    """Runs the search for each policy on ``dev_file`` and rewrites ``model_dir/model_card.json``
    atomically with the ``calibrated`` key (see :func:`updated_card`). Whether the directory may be
    written (``models/``) is the CLI's decision (``cli.check_model_out``).

    Args:
        model_dir: exported model directory.
        policies: policy names to calibrate.
        max_accuracy_loss_pt: budget in percentage points.
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
    results = [calibrate_policy(logits, y, p, max_accuracy_loss_pt, card["labels"]) for p in policies]
    provenance = {"max_accuracy_loss_points": max_accuracy_loss_pt, "chosen_on": "dev", "dev_size": len(examples),
                  "dev_file": str(dev_file), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "command": command}
    new = updated_card(card, results, provenance, set_recommended, protected_label)
    from .card import write_card
    return write_card(model_dir / CARD_FILE, new)


# ---------------------------------------------------------------------------------------------------
# Protected-label calibration: ``calibrate --max-recall-loss LABEL:POINTS``
# ---------------------------------------------------------------------------------------------------

#: The card key the protected-label search writes.
PROTECTED_CARD_KEY = "protected_calibration"


def describe_setting(entry: dict) -> str:
    """A card setting in words: ``"entropy S=0.1417"``, ``"patience t=3"``, or for per-label thresholds
    ``"entropy S(ham)=0.1744 S(spam)=0.5689"``."""
    if entry.get("rule") == "full model":
        return "full model (last off-ramp)"
    if entry["policy"] == exits.PATIENCE:
        return f"patience t={entry['value']}"
    if entry.get("label_thresholds"):
        return entry["policy"] + " " + " ".join(f"S({k})={v:.4g}" for k, v in entry["label_thresholds"].items())
    return f"{entry['policy']} S={entry['value']:.4g}"


def protected_table(result: dict, split: str) -> list[str]:
    """The side-by-side table :func:`calibrate_protected_model` prints: the full model, the chosen setting,
    each rule's best and the card's old recommended setting, on ``split`` (``result`` or ``result["test"]``
    shaped like :func:`selection.calibrate_protected`'s return). Recall as a fraction with the missed count, false
    alarms as a count, expected saving in %."""
    label = result["label"]
    labels = list(result["full"]["recall"])
    others = [k for k in labels if k != label]
    support = {k: v["support"] for k, v in result["full"]["classes"]["per_class"].items()}
    rows = [("full model", result["full"]), ("chosen", result["chosen"])]
    rows += [(f"best {r}", v) for r, v in result["rules"].items()]
    if "old_recommended" in result:
        rows.append(("old recommended", result["old_recommended"]))
    head = (f"{'':26s} {'setting':40s} {label + ' recall (missed)':>22s} "
            + " ".join(f"{k + ' recall (missed)':>22s}" for k in others)
            + f" {'false alarms':>12s} {'accuracy':>8s} {'saving %':>8s}")
    lines = [f"{split}: {len(result['full']['classes']['per_class'])} labels, "
             + ", ".join(f"{support[k]} {k}" for k in labels) + f"; false alarms = {', '.join(others)} inputs "
             f"answered as {label}", head]
    for name, r in rows:
        lines.append(f"{name:26s} {describe_setting(r):40s} "
                     f"{r['protected_recall']:>14.4f} ({r['protected_missed']:>4d}) "
                     + " ".join(f"{r['recall'][k]:>14.4f} ({r['missed'][k]:>4d})" for k in others)
                     + f" {r['false_alarms']:>12d} {r['accuracy']:>8.4f} {100 * r['expected_saving']:>8.1f}")
    return lines


def updated_card_protected(card: dict, entry: dict, set_recommended: bool, test_row: dict | None) -> dict:
    """A copy of ``card`` with ``protected_calibration`` = ``entry`` and ``protected_label`` = its label;
    with ``set_recommended``, ``recommended_threshold`` = the chosen setting in the format the service
    reads (``policy``, ``value``, ``label_thresholds`` ``{label name: S}`` for a per-label rule, ``value``
    then being the other labels' S), with ``chosen_on``, ``rule``, the dev figures, ``test_row`` as
    ``test`` when given (a :func:`selection.setting_row` from ``reference_outputs.jsonl``), ``date`` and ``command``.
    No other key changes."""
    card = dict(card)
    card["protected_label"] = entry["label"]
    card[PROTECTED_CARD_KEY] = entry
    if set_recommended:
        c = entry["chosen"]
        bounds = (f"dev {entry['label']} recall at most {entry['max_recall_loss_points']} percentage points below the "
                  f"full model's, every other label's dev recall at most {entry['max_false_alarm_increase_points']} "
                  f"points below the full model's")
        if entry["max_accuracy_loss_points"] is not None:
            bounds += f", dev accuracy at most {entry['max_accuracy_loss_points']} points below the full model's"
        rec = {"policy": c["policy"], "value": c["value"]}
        if "label_thresholds" in c:
            rec["label_thresholds"] = c["label_thresholds"]
        rec.update({"chosen_on": "dev",
                    "rule": f"calibrate --max-recall-loss: the {c['rule']} setting with the largest expected saving "
                            f"(eq. 2) among {', '.join(entry['candidates'])} settings with {bounds}",
                    "protected_label": entry["label"], "dev_protected_recall": c["protected_recall"],
                    "dev_false_alarms": c["false_alarms"], "dev_accuracy": c["accuracy"],
                    "dev_expected_saving": c["expected_saving"]})
        if test_row is not None:
            rec["test"] = test_row
        rec.update({"dev_classes": c["classes"], "date": entry["date"], "command": entry["command"]})
        card["recommended_threshold"] = rec
    return card


def test_logits(model_dir: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """Every off-ramp's logits float32 (N, n, C) and gold indices int (N,) recorded in the model's
    ``reference_outputs.jsonl`` (the test split at export), or None when the directory has none."""
    path = Path(model_dir) / "reference_outputs.jsonl"
    if not path.is_file():
        return None
    refs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return (np.array([r["logits"] for r in refs], dtype=np.float32), np.array([r["label_index"] for r in refs]))


def calibrate_protected_model(model_dir: Path, protected_label: str, max_recall_loss_pt: float, dev_file: Path,
                              max_false_alarm_increase_pt: float = DEFAULT_MAX_FALSE_ALARM_INCREASE_PT,
                              max_accuracy_loss_pt: float | None = None, rules: tuple[str, ...] = RULES,
                              set_recommended: bool = False, command: str = "") -> tuple[dict, dict]:
    """Runs :func:`selection.calibrate_protected` on ``dev_file`` with the exported model's own off-ramp logits and
    rewrites ``model_dir/model_card.json`` atomically (:func:`updated_card_protected`). The card's
    recommended setting before this run is evaluated beside the others (``old_recommended``). When the
    model directory has ``reference_outputs.jsonl``, every reported setting is also evaluated on those test
    logits (``test`` in the entry): reported only, the choice uses dev alone.

    Args:
        model_dir: exported model directory.
        protected_label: the label whose recall is bounded (recorded as the card's ``protected_label``).
        max_recall_loss_pt, max_false_alarm_increase_pt, max_accuracy_loss_pt: percentage points (see
            :func:`selection.calibrate_protected`).
        dev_file: dev examples (:func:`read_dev_file`).
        rules: rules to search. set_recommended: make the chosen setting ``recommended_threshold``.
        command: the command line, recorded.
    Returns:
        (the new card, the ``protected_calibration`` entry); ``old_recommended.recorded`` keeps the old
        ``recommended_threshold`` as the card had it (without its ``test`` and ``dev_classes`` figures).
    Raises:
        DataError: bad dev file. ValueError: see :func:`selection.calibrate_protected`.
    """
    from .tokenization import expects_text_pair
    model_dir = Path(model_dir)
    card = json.loads((model_dir / CARD_FILE).read_text())
    labels = card["labels"]
    examples = read_dev_file(dev_file, labels, expects_text_pair(card))
    old = setting_of(card["recommended_threshold"], labels) if "recommended_threshold" in card else None
    logits, y = dev_logits(model_dir, examples, labels)
    result = calibrate_protected(logits, y, labels, protected_label, max_recall_loss_pt, max_false_alarm_increase_pt,
                                 max_accuracy_loss_pt, rules, old)
    entry = {**{k: v for k, v in result.items() if k in ("label", "max_recall_loss_points",
                                                         "max_false_alarm_increase_points", "max_accuracy_loss_points")},
             "chosen_on": "dev", "dev_size": len(examples), "dev_file": str(dev_file),
             "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "command": command,
             **{k: v for k, v in result.items() if k in ("candidates", "chosen", "rules", "full", "old_recommended")}}
    if "old_recommended" in entry:   # what the card said of it, so the history survives the replacement
        entry["old_recommended"]["recorded"] = {k: v for k, v in card["recommended_threshold"].items()
                                                if k not in ("test", "dev_classes")}
    test = test_logits(model_dir)
    test_row = None
    if test is not None:
        p = labels.index(protected_label)
        full = figures(*test, exits.ExitSetting(exits.ENTROPY, 0.0), labels, p)

        def on_test(e):
            row = full if e["rule"] == "full model" else figures(*test, setting_of(e, labels), labels, p)
            return {**{k: e[k] for k in ("rule", "policy", "value", "label_thresholds") if k in e},
                    **row, **loss_points(full, row, protected_label)}
        entry["test"] = {"source": f"off-ramp logits of the {len(test[1])} inputs of reference_outputs.jsonl; "
                                   "reported only, the setting is chosen on dev",
                         "label": protected_label, "full": on_test(entry["full"]), "chosen": on_test(entry["chosen"]),
                         "rules": {r: on_test(v) for r, v in entry["rules"].items()}}
        if "old_recommended" in entry:
            entry["test"]["old_recommended"] = on_test(entry["old_recommended"])
        test_row = setting_row(*test, setting_of(entry["chosen"], labels), labels)
    new = updated_card_protected(card, entry, set_recommended, test_row)
    from .card import write_card
    return write_card(model_dir / CARD_FILE, new), entry
