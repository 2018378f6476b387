"""``calibrate``: per exit policy, the cheapest setting that keeps dev accuracy within a budget, written
into an exported model's card under ``calibrated``, with the chosen setting's and the full model's dev
figures per class (precision, recall, F1, macro-F1, confusion matrix). With ``--max-recall-loss
LABEL:POINTS`` instead (see :func:`calibrate_protected`): the cheapest setting of any rule (entropy,
divergence, patience, or per-label entropy/divergence thresholds) that keeps the protected label's dev
recall, and every other label's, within bounds, written under ``protected_calibration``.

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


# ---------------------------------------------------------------------------------------------------
# Protected-label calibration: ``calibrate --max-recall-loss LABEL:POINTS``
# ---------------------------------------------------------------------------------------------------

#: The card key the protected-label search writes.
PROTECTED_CARD_KEY = "protected_calibration"
#: Default of ``--max-false-alarm-increase``, in percentage points: each other label's dev recall may fall at
#: most this far below the full model's. 1.0 point of the committed model's 616 dev ham is 6 more ham flagged
#: as spam: a reviewer's extra load, while the protected budget is about one more spam let through.
DEFAULT_MAX_FALSE_ALARM_INCREASE = 1.0
#: Per-label rules search the 2-D grid protected label's S x the other labels' S; each axis keeps every
#: distinct behaviour up to this many values (exhaustive: 1,346 x 3,086 settings for the committed model's
#: 887 dev emails, about a second), above it 0, ``above the largest`` and the rest at evenly spaced quantiles.
MAX_AXIS_CANDIDATES = 4000
#: Rules searched, in this order; on a full tie across rules the earlier (simpler) one wins.
RULES = ("entropy", "divergence", "patience", "entropy-per-label", "divergence-per-label")
#: Margin of the ``above every observed score`` candidate, nats: far beyond float32 rounding of a score
#: <= ln C (about 1e-7), so the service's float32 entropy lets the same inputs out.
ABOVE_MAX_MARGIN = 1e-6


def rule_policy(rule: str) -> str:
    """The exit policy of a rule name (``entropy-per-label`` -> ``entropy``)."""
    return rule.removesuffix("-per-label")


def score_axis(observed: np.ndarray) -> np.ndarray:
    """S values (nats, float64, ascending) that cover every distinct exit behaviour of a score axis.

    With the distinct finite observed scores ``u_1 < ... < u_m``, exit ``score < S`` lets out the inputs
    below ``u_k`` for any S in ``(u_{k-1}, u_k]``; the candidate is the midpoint of that gap (not ``u_k``
    itself, so an input whose float32 score in the service rounds a little differently still lands on
    the same side), plus S = 0 (nothing leaves) and ``u_m + ABOVE_MAX_MARGIN`` (everything leaves at its
    first chance). Index k of the result lets out exactly ``u_1..u_k``.

    Args:
        observed: float64 scores in nats, any shape; +inf (divergence at layer 1, or a masked layer) is ignored.
    Returns:
        float64 (m + 1,), first value 0.
    """
    u = np.unique(np.asarray(observed, dtype=np.float64)[np.isfinite(observed)])
    if len(u) == 0:
        return np.zeros(1)
    return np.concatenate([[0.0], (u[1:] + u[:-1]) / 2, [u[-1] + ABOVE_MAX_MARGIN]])


def subsample(size: int, max_candidates: int) -> np.ndarray:
    """At most ``max_candidates`` (>= 2) indices into an ascending axis of ``size`` values: the first, the
    last and the rest evenly spaced by rank, i.e. at quantiles of the observed scores. int64 (K,)."""
    if size <= max_candidates:
        return np.arange(size)
    return np.unique(np.round(np.linspace(0, size - 1, max_candidates)).astype(np.int64))


def first_exit_index(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For every S, each input's 0-based exit layer under ``score < S`` at layers 1..n-1, else n-1 (the
    last off-ramp), as :func:`exits.exit_layers_from_scores` minus 1, for many S at once.

    The running minimum of the scores over layers is non-increasing, so the exit index is the number of
    early layers whose running minimum is still >= S.

    Args:
        scores: float64 (N, n), nats; +inf never exits (divergence at layer 1, or a layer masked out).
        thresholds: float64 (K,), nats.
    Returns:
        int64 (K, N) in 0..n-1.
    """
    running_min = np.minimum.accumulate(scores[:, :-1], axis=1)      # (N, n-1)
    out = np.empty((len(thresholds), len(scores)), dtype=np.int64)
    for start in range(0, len(thresholds), 256):                      # bounded memory: 256 x N x (n-1) bools
        s = thresholds[start:start + 256]
        out[start:start + len(s)] = (running_min[None, :, :] >= s[:, None, None]).sum(axis=2)
    return out


def exit_counts(exit_index: np.ndarray, predicted: np.ndarray, gold: np.ndarray, num_labels: int,
                protected: int) -> dict:
    """Counts of many candidate settings at once, from their exit layers.

    Args:
        exit_index: int (..., N), 0-based exit layer per input, one row per setting.
        predicted: int (N, n), every off-ramp's predicted label.
        gold: int (N,), gold label indices.
        num_labels: C.
        protected: the protected label's index.
    Returns:
        ``{"correct": int (..., C) inputs of each gold label answered with it, "false_alarms": int (...)
        inputs of another gold label answered as the protected label, "layers": int (...) sum of the 1-based
        exit layers (eq. 2's sum_i i*N_i)}``. Recall = correct / support: the counts ``sklearn.metrics``
        derives recall from, computed here as matrix products because calling sklearn once per setting
        would take minutes for millions of settings (:func:`figures` recomputes each chosen one with sklearn).
    """
    answer = predicted[np.arange(len(gold)), exit_index]                      # (..., N)
    # float32 products run on BLAS, ~4x faster than integer ones; exact while N < 2^24.
    onehot = np.eye(num_labels, dtype=np.float32)[gold]                        # (N, C)
    correct = ((answer == gold).astype(np.float32) @ onehot).astype(np.int64)
    false_alarms = ((answer == protected).astype(np.float32) @ (gold != protected).astype(np.float32)).astype(np.int64)
    return {"correct": correct, "false_alarms": false_alarms, "layers": (exit_index + 1).sum(axis=-1)}


def pair_counts(exit_prot: np.ndarray, exit_other: np.ndarray, predicted: np.ndarray, gold: np.ndarray,
                num_labels: int, protected: int) -> dict:
    """:func:`exit_counts` of every pair (i, j) of a per-label setting, whose exit layer is the earlier of
    the protected side's and the other side's: ``min(exit_prot[i], exit_other[j])``.

    Exact and without the (Kp, Ko, N) array: as i grows an input's protected-side exit only moves down,
    at most n-1 times, so each count is its value at i = 0 plus a running sum over those moves ("events"),
    evaluated for every j at once.

    Args:
        exit_prot: int (Kp, N), 0-based exit layers of the protected side per protected S, ascending S.
        exit_other: int (Ko, N), the same for the other labels' S.
        predicted, gold, num_labels, protected: as :func:`exit_counts`.
    Returns:
        ``{"correct": int (Kp, Ko, C), "false_alarms": int (Kp, Ko), "layers": int (Kp, Ko)}``.
    """
    correct_at = (predicted == gold[:, None]).astype(np.int64)                              # (N, n)
    alarm_at = ((predicted == protected) & (gold != protected)[:, None]).astype(np.int64)   # (N, n)
    rows = np.arange(len(gold))
    ev_i, ev_x = np.nonzero(exit_prot[1:] != exit_prot[:-1])       # row-major: sorted by i
    ev_i += 1
    old, new = exit_prot[ev_i - 1, ev_x], exit_prot[ev_i, ev_x]
    upto = np.searchsorted(ev_i, np.arange(len(exit_prot)), side="right")   # events at index <= i

    def running(delta):   # (Ko, E) -> (Kp, Ko): sum of the deltas of the events at index <= i
        return np.concatenate([np.zeros((len(delta), 1), np.int64), np.cumsum(delta, axis=1)], axis=1)[:, upto].T

    start = np.minimum(exit_prot[0][None, :], exit_other)                                   # (Ko, N)
    e_old = np.minimum(old[None, :], exit_other[:, ev_x])                                   # (Ko, E)
    e_new = np.minimum(new[None, :], exit_other[:, ev_x])
    d_correct = correct_at[ev_x, e_new] - correct_at[ev_x, e_old]
    correct = np.stack([(correct_at[rows, start] * (gold == c)).sum(axis=1)[None, :]
                        + running(d_correct * (gold[ev_x] == c)) for c in range(num_labels)], axis=-1)
    return {"correct": correct,
            "false_alarms": alarm_at[rows, start].sum(axis=1)[None, :]
                            + running(alarm_at[ev_x, e_new] - alarm_at[ev_x, e_old]),
            "layers": (start + 1).sum(axis=1)[None, :] + running(e_new - e_old)}


def _bounds_ok(counts: dict, support: np.ndarray, full_correct: np.ndarray, total: int, protected: int,
               max_recall_loss: float, max_false_alarm_increase: float, max_accuracy_loss: float | None) -> np.ndarray:
    """bool (...): the candidates whose dev recall of the protected label is within ``max_recall_loss``
    points of the full model's, every other label's within ``max_false_alarm_increase`` points, and (when
    given) accuracy within ``max_accuracy_loss`` points. A 1e-9-point slack absorbs float rounding of
    count / support, so a loss of exactly the budget counts as within it."""
    safe = np.maximum(support, 1)   # a label absent from dev has recall 0 for every setting: drop 0
    drop_points = (full_correct - counts["correct"]) / safe * 100.0         # (..., C)
    bound = np.full(len(support), max_false_alarm_increase, dtype=np.float64)
    bound[protected] = max_recall_loss
    ok = (drop_points <= bound + 1e-9).all(axis=-1)
    if max_accuracy_loss is not None:
        acc_drop = (full_correct.sum() - counts["correct"].sum(axis=-1)) / total * 100.0
        ok &= acc_drop <= max_accuracy_loss + 1e-9
    return ok


def _best(counts: dict, ok: np.ndarray, protected: int, caution: list[np.ndarray]) -> int | None:
    """Index of the best admissible candidate (flat), or None: fewest layers run (= highest expected
    saving), then most protected inputs caught (= highest protected recall), then fewest false alarms,
    then the most cautious (``caution`` keys, most important first, higher = more cautious)."""
    idx = np.flatnonzero(ok.ravel())
    if len(idx) == 0:
        return None
    keys = [k.ravel()[idx] for k in reversed(caution)]
    keys += [-counts["false_alarms"].ravel()[idx], counts["correct"][..., protected].ravel()[idx],
             -counts["layers"].ravel()[idx]]
    return int(idx[np.lexsort(keys)[-1]])


def search_rule(all_logits: np.ndarray, gold: np.ndarray, rule: str, protected: int, max_recall_loss: float,
                max_false_alarm_increase: float, max_accuracy_loss: float | None = None,
                max_axis_candidates: int = MAX_AXIS_CANDIDATES) -> dict:
    """The best admissible setting of one rule on the given (dev) logits.

    Rules: ``entropy`` / ``divergence`` (one S for every label; every distinct behaviour, see
    :func:`score_axis`), ``patience`` (t = 1..n), ``entropy-per-label`` / ``divergence-per-label`` (the
    protected label's S x one S shared by every other label, each axis from :func:`score_axis` over the
    scores of the layers whose off-ramp predicts that side; every pair, counted by :func:`pair_counts`;
    an axis with more than ``max_axis_candidates`` values keeps that many, at quantiles).
    Admissible and best: see :func:`_bounds_ok` and :func:`_best`; more cautious = smaller S (for the
    per-label rules: smaller other-label S first, since a benign answer that leaves early and is wrong
    lets harm through, then smaller protected S), larger t. The full model's setting (S = 0) is always
    a candidate and always admissible, so every rule has a result.

    Args:
        all_logits: float (N, n, C), every off-ramp's logits. gold: int (N,).
        rule: one of :data:`RULES`. protected: the protected label's index.
        max_recall_loss, max_false_alarm_increase, max_accuracy_loss: percentage points (None: no accuracy bound).
    Returns:
        ``{"rule", "policy", "value" (S in nats, or t as int), "label_thresholds" (float64 (C,), per-label
        rules only), "candidates", "exit_index": int (N,) 0-based, "counts": :func:`exit_counts` of it}``.
    Raises:
        ValueError: unknown rule.
    """
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; known: {RULES}")
    all_logits, gold = np.asarray(all_logits), np.asarray(gold)
    N, n, C = all_logits.shape
    policy = rule_policy(rule)
    predicted = exits.predicted_labels(all_logits)
    support = np.bincount(gold, minlength=C)
    full_correct = np.bincount(gold[predicted[:, -1] == gold], minlength=C)
    scores = exits.exit_scores(all_logits, policy)

    def pick(counts, caution):
        ok = _bounds_ok(counts, support, full_correct, N, protected, max_recall_loss, max_false_alarm_increase,
                        max_accuracy_loss)
        return _best(counts, ok, protected, caution)

    def count(exit_index):
        return exit_counts(exit_index, predicted, gold, C, protected)

    if policy == exits.PATIENCE:
        ts = np.arange(1, n + 1)
        exit_index = np.stack([exits.exit_layers_from_scores(scores, exits.ExitSetting(policy, float(t))) - 1
                               for t in ts])
        k = pick(count(exit_index), [ts])
        return {"rule": rule, "policy": policy, "value": int(ts[k]), "candidates": len(ts),
                "exit_index": exit_index[k], "counts": count(exit_index[k])}
    if not rule.endswith("-per-label"):
        values = score_axis(scores[:, : n - 1])
        exit_index = first_exit_index(scores, values)
        k = pick(count(exit_index), [-values])
        return {"rule": rule, "policy": policy, "value": float(values[k]), "candidates": len(values),
                "exit_index": exit_index[k], "counts": count(exit_index[k])}
    mine = predicted == protected
    prot_scores, other_scores = np.where(mine, scores, np.inf), np.where(mine, np.inf, scores)
    s_prot = score_axis(prot_scores[:, : n - 1])
    s_other = score_axis(other_scores[:, : n - 1])
    s_prot, s_other = (s[subsample(len(s), max_axis_candidates)] for s in (s_prot, s_other))
    exit_prot, exit_other = first_exit_index(prot_scores, s_prot), first_exit_index(other_scores, s_other)
    best, best_key = None, None
    # Bounded memory: a block of columns x (events + Kp) values at a time, about 2 million of each array.
    step = max(1, 2_000_000 // (N * (n - 1) + len(s_prot)))
    for j in range(0, len(s_other), step):
        counts = pair_counts(exit_prot, exit_other[j:j + step], predicted, gold, C, protected)
        shape = counts["layers"].shape
        k = pick(counts, [np.broadcast_to(-s_other[None, j:j + step], shape), np.broadcast_to(-s_prot[:, None], shape)])
        if k is None:
            continue
        a, b = np.unravel_index(k, shape)
        key = (-int(counts["layers"][a, b]), int(counts["correct"][a, b, protected]),
               -int(counts["false_alarms"][a, b]), -s_other[j + b], -s_prot[a])
        if best_key is None or key > best_key:
            best, best_key = (int(a), int(j + b)), key
    kp, ko = best
    best_exit = np.minimum(exit_prot[kp], exit_other[ko])
    label_thresholds = np.full(C, s_other[ko])
    label_thresholds[protected] = s_prot[kp]
    return {"rule": rule, "policy": policy, "value": float(s_other[ko]), "label_thresholds": label_thresholds,
            "candidates": len(s_prot) * len(s_other), "exit_index": best_exit, "counts": count(best_exit)}


def setting_of(entry: dict, label_names: list[str]) -> exits.ExitSetting:
    """The :class:`exits.ExitSetting` of a card setting (``recommended_threshold``, a ``calibrated`` or
    ``protected_calibration`` entry): ``policy``, ``value`` and, when present, ``label_thresholds`` as
    ``{label name: S}``; a label it leaves out gets ``value`` (the other labels' S).

    Raises:
        ValueError: ``label_thresholds`` names a label the task does not have.
    """
    by_label = entry.get("label_thresholds")
    if by_label is None:
        return exits.ExitSetting(entry["policy"], float(entry["value"]))
    unknown = sorted(set(by_label) - set(label_names))
    if unknown:
        raise ValueError(f"label_thresholds names {unknown}, not labels of this task ({', '.join(label_names)})")
    return exits.ExitSetting(entry["policy"], float(entry["value"]),
                             label_thresholds=tuple(float(by_label.get(name, entry["value"])) for name in label_names))


def setting_entry(rule: str, setting: exits.ExitSetting, label_names: list[str]) -> dict:
    """``{"rule", "policy", "value", "label_thresholds": {name: S}}`` (the last only for a per-label setting),
    the card's format; ``value`` is the patience t as an int for patience."""
    value = int(setting.threshold) if setting.policy == exits.PATIENCE else float(setting.threshold)
    entry = {"rule": rule, "policy": setting.policy, "value": value}
    if setting.label_thresholds is not None:
        entry["label_thresholds"] = {name: float(s) for name, s in zip(label_names, setting.label_thresholds)}
    return entry


def setting_rule(setting: exits.ExitSetting) -> str:
    """The rule name of a setting: its policy, with ``-per-label`` for per-label thresholds."""
    return setting.policy + ("-per-label" if setting.label_thresholds is not None else "")


def figures(all_logits: np.ndarray, gold: np.ndarray, setting: exits.ExitSetting, label_names: list[str],
            protected: int) -> dict:
    """One setting's figures, with the module's own exit code (:func:`exits.exit_layers`) and
    :func:`evaluate.class_metrics` (``sklearn.metrics``), independent of the vectorised search.

    Args:
        all_logits: float (N, n, C). gold: int (N,). protected: the protected label's index.
    Returns:
        ``{"protected_recall" (fraction), "protected_missed" (protected inputs answered otherwise),
        "false_alarms" (inputs of other labels answered as the protected label), "recall": {label:
        fraction}, "missed": {label: count}, "accuracy" (fraction), "expected_saving" (eq. 2, fraction),
        "exit_histogram" (inputs per exit layer 1..n), "classes": class_metrics}``.
    """
    from .evaluate import class_metrics
    all_logits, gold = np.asarray(all_logits), np.asarray(gold)
    n = all_logits.shape[1]
    layer = exits.exit_layers(all_logits, setting)
    answer = all_logits[np.arange(len(gold)), layer - 1].argmax(axis=-1)
    classes = class_metrics(gold, answer, label_names)
    name = label_names[protected]
    cm = classes["confusion_matrix"]
    return {"protected_recall": classes["per_class"][name]["recall"],
            "protected_missed": sum(v for k, v in cm[name].items() if k != name),
            "false_alarms": sum(cm[g][name] for g in label_names if g != name),
            "recall": {k: v["recall"] for k, v in classes["per_class"].items()},
            "missed": {g: sum(v for k, v in cm[g].items() if k != g) for g in label_names},
            "accuracy": float((answer == gold).mean()), "expected_saving": exits.expected_saving(layer, n),
            "exit_histogram": np.bincount(layer, minlength=n + 1)[1:].tolist(), "classes": classes}


def loss_points(full: dict, row: dict, protected_label: str) -> dict:
    """``{"recall_loss_points", "other_recall_drop_points": {label: points}, "accuracy_loss_points"}``:
    how far ``row``'s dev figures fall below the full model's, in percentage points (negative = better)."""
    return {"recall_loss_points": (full["protected_recall"] - row["protected_recall"]) * 100.0,
            "other_recall_drop_points": {k: (full["recall"][k] - row["recall"][k]) * 100.0
                                         for k in full["recall"] if k != protected_label},
            "accuracy_loss_points": (full["accuracy"] - row["accuracy"]) * 100.0}


def calibrate_protected(all_logits: np.ndarray, gold: np.ndarray, label_names: list[str], protected_label: str,
                        max_recall_loss: float, max_false_alarm_increase: float = DEFAULT_MAX_FALSE_ALARM_INCREASE,
                        max_accuracy_loss: float | None = None, rules: tuple[str, ...] = RULES,
                        old_setting: exits.ExitSetting | None = None,
                        max_axis_candidates: int = MAX_AXIS_CANDIDATES) -> dict:
    """The setting with the highest expected saving (DeeBERT eq. 2) whose dev recall of ``protected_label``
    stays within ``max_recall_loss`` percentage points of the full model's (the last off-ramp's), whose
    every other label's dev recall stays within ``max_false_alarm_increase`` points of the full model's
    (each point lost there is that share of the label's inputs now answered wrongly, in a 2-label task all
    flagged as the protected label), and, when given, whose dev accuracy stays within ``max_accuracy_loss``
    points. Searched over ``rules`` (:func:`search_rule`); ties: higher saving, then higher protected recall,
    then fewer false alarms, then the more cautious setting, then the earlier rule in :data:`RULES`.

    Args:
        all_logits: float (N, n, C), every off-ramp's logits on dev. gold: int (N,) label indices.
        label_names: the task's labels in logits order (C).
        protected_label: one of ``label_names``; dev must hold at least one input of it.
        max_recall_loss, max_false_alarm_increase, max_accuracy_loss: percentage points, finite, >= 0
            (``max_accuracy_loss`` None: no accuracy bound).
        rules: the rules to search, a non-empty subset of :data:`RULES`.
        old_setting: the card's recommended setting before this run, reported beside the others (optional).
        max_axis_candidates: per axis of the per-label rules' grid.
    Returns:
        ``{"label", "max_recall_loss_points", "max_false_alarm_increase_points", "max_accuracy_loss_points",
        "candidates" ({rule: count}), "full", "chosen", "rules" ({rule: best of that rule}), "old_recommended"
        (if ``old_setting``)}``; every setting is :func:`setting_entry` + :func:`figures` + :func:`loss_points`
        (+ ``within_bounds`` for the old setting, and ``candidates`` per rule).
    Raises:
        ValueError: a bound negative or not finite, an unknown label or rule, no dev input of the protected
            label, or no inputs.
    """
    for name, v in (("max recall loss", max_recall_loss), ("max false alarm increase", max_false_alarm_increase),
                    ("max accuracy loss", 0.0 if max_accuracy_loss is None else max_accuracy_loss)):
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite number >= 0 (percentage points), got {v}")
    if protected_label not in label_names:
        raise ValueError(f"{protected_label!r} is not a label of this task ({', '.join(label_names)})")
    if not rules or any(r not in RULES for r in rules):
        raise ValueError(f"rules must be a non-empty subset of {RULES}, got {rules}")
    all_logits, gold = np.asarray(all_logits), np.asarray(gold)
    if len(all_logits) == 0:
        raise ValueError("calibration needs at least one dev input")
    p = label_names.index(protected_label)
    if not (gold == p).any():
        raise ValueError(f"no dev input has the protected label {protected_label!r}: its recall is undefined")
    n = all_logits.shape[1]
    full = figures(all_logits, gold, exits.ExitSetting(exits.ENTROPY, 0.0), label_names, p)

    def describe(rule, setting, row):
        return {**setting_entry(rule, setting, label_names), **row, **loss_points(full, row, protected_label)}

    results = {}
    for rule in rules:
        r = search_rule(all_logits, gold, rule, p, max_recall_loss, max_false_alarm_increase, max_accuracy_loss,
                        max_axis_candidates)
        lt = r.get("label_thresholds")
        setting = exits.ExitSetting(r["policy"], float(r["value"]), label_thresholds=None if lt is None else tuple(lt))
        row = figures(all_logits, gold, setting, label_names, p)
        # The vectorised search and the module's own exit code must agree on the chosen setting.
        if (row["expected_saving"] != exits.expected_saving(r["exit_index"] + 1, n)
                or row["false_alarms"] != int(r["counts"]["false_alarms"])):
            raise RuntimeError(f"{rule}: search and exits.exit_layers disagree on {setting}")
        results[rule] = {**describe(rule, setting, row), "candidates": r["candidates"], "_key": (
            -int(r["counts"]["layers"]), int(r["counts"]["correct"][p]), -int(r["counts"]["false_alarms"]),
            -RULES.index(rule))}
    chosen_rule = max(results, key=lambda k: results[k]["_key"])
    for r in results.values():
        del r["_key"]
    out = {"label": protected_label, "max_recall_loss_points": max_recall_loss,
           "max_false_alarm_increase_points": max_false_alarm_increase, "max_accuracy_loss_points": max_accuracy_loss,
           "candidates": {k: v["candidates"] for k, v in results.items()},
           "full": describe("full model", exits.ExitSetting(exits.ENTROPY, 0.0), full),
           "chosen": {k: v for k, v in results[chosen_rule].items() if k != "candidates"},
           "rules": results}
    if old_setting is not None:
        old_setting.validate(n, len(label_names))
        row = describe(setting_rule(old_setting), old_setting,
                       figures(all_logits, gold, old_setting, label_names, p))
        row["within_bounds"] = bool(
            row["recall_loss_points"] <= max_recall_loss + 1e-9
            and all(v <= max_false_alarm_increase + 1e-9 for v in row["other_recall_drop_points"].values())
            and (max_accuracy_loss is None or row["accuracy_loss_points"] <= max_accuracy_loss + 1e-9))
        out["old_recommended"] = row
    return out


def setting_row(all_logits: np.ndarray, gold: np.ndarray, setting: exits.ExitSetting, label_names: list[str]) -> dict:
    """A row like :func:`evaluate.sweep`'s (``policy``, ``threshold``, ``accuracy``, ``exit_histogram``,
    ``mean_exit_layer``, ``expected_saving`` and :func:`evaluate.class_metrics`' keys) for any setting: the
    sweep's own row for a single S or t, and for per-label thresholds the same keys plus
    ``label_thresholds`` ``{label name: S}`` after ``threshold`` (the other labels' S)."""
    from . import evaluate as ev
    if setting.label_thresholds is None and setting.layer_thresholds is None:
        return ev.sweep(all_logits, gold, [setting.threshold], setting.policy, label_names)[0]
    all_logits, gold = np.asarray(all_logits), np.asarray(gold)
    n = all_logits.shape[1]
    layer = exits.exit_layers(all_logits, setting)
    answer = all_logits[np.arange(len(layer)), layer - 1].argmax(axis=-1)
    row = {"policy": setting.policy, "threshold": float(setting.threshold)}
    if setting.label_thresholds is not None:
        row["label_thresholds"] = {k: float(v) for k, v in zip(label_names, setting.label_thresholds)}
    row.update({"accuracy": float((answer == gold).mean()),
                "exit_histogram": np.bincount(layer, minlength=n + 1)[1:].tolist(),
                "mean_exit_layer": float(layer.mean()), "expected_saving": exits.expected_saving(layer, n)})
    row.update(ev.class_metrics(gold, answer, label_names))
    return row


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
    shaped like :func:`calibrate_protected`'s return). Recall as a fraction with the missed count, false
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
    ``test`` when given (a :func:`setting_row` from ``reference_outputs.jsonl``), ``date`` and ``command``.
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


def calibrate_protected_model(model_dir: Path, protected_label: str, max_recall_loss: float, dev_file: Path,
                              max_false_alarm_increase: float = DEFAULT_MAX_FALSE_ALARM_INCREASE,
                              max_accuracy_loss: float | None = None, rules: tuple[str, ...] = RULES,
                              set_recommended: bool = False, command: str = "") -> tuple[dict, dict]:
    """Runs :func:`calibrate_protected` on ``dev_file`` with the exported model's own off-ramp logits and
    rewrites ``model_dir/model_card.json`` atomically (:func:`updated_card_protected`). The card's
    recommended setting before this run is evaluated beside the others (``old_recommended``). When the
    model directory has ``reference_outputs.jsonl``, every reported setting is also evaluated on those test
    logits (``test`` in the entry): reported only, the choice uses dev alone.

    Args:
        model_dir: exported model directory.
        protected_label: the label whose recall is bounded (recorded as the card's ``protected_label``).
        max_recall_loss, max_false_alarm_increase, max_accuracy_loss: percentage points (see
            :func:`calibrate_protected`).
        dev_file: dev examples (:func:`read_dev_file`).
        rules: rules to search. set_recommended: make the chosen setting ``recommended_threshold``.
        command: the command line, recorded.
    Returns:
        (the new card, the ``protected_calibration`` entry); ``old_recommended.recorded`` keeps the old
        ``recommended_threshold`` as the card had it (without its ``test`` and ``dev_classes`` figures).
    Raises:
        DataError: bad dev file. ValueError: see :func:`calibrate_protected`.
    """
    from .tokenization import expects_text_pair
    model_dir = Path(model_dir)
    card = json.loads((model_dir / CARD_FILE).read_text())
    labels = card["labels"]
    examples = read_dev_file(dev_file, labels, expects_text_pair(card))
    old = setting_of(card["recommended_threshold"], labels) if "recommended_threshold" in card else None
    logits, y = dev_logits(model_dir, examples, labels)
    result = calibrate_protected(logits, y, labels, protected_label, max_recall_loss, max_false_alarm_increase,
                                 max_accuracy_loss, rules, old)
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
