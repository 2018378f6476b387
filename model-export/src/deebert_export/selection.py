"""Choosing an exit setting on dev: the candidate grids, one setting's figures (a sweep row), the budget
checks and the searches that ``evaluate``, ``calibrate`` and ``reevaluate`` use.

Every budget is in **percentage points** below the full model's figure (every input through the last
off-ramp), and every argument that holds one says so: ``max_accuracy_loss_pt``, ``max_recall_loss_pt``,
``max_false_alarm_increase_pt`` (0.5 = half a point). A CLI option that takes a fraction
(``--max-accuracy-drop``) is converted once, at the CLI, with :func:`fraction_to_points`. Accuracy,
recall and expected saving (DeeBERT eq. 2, :func:`exits.expected_saving`) are fractions; S is in nats
(entropy, divergence) and the patience t in layers.

- Grids: :func:`default_thresholds` (the evaluation sweep's fixed grid), :func:`candidate_settings`
  (every distinct behaviour of one S, for ``calibrate``), :func:`score_axis` (the same as midpoints, for
  the protected search).
- Rows: :func:`sweep` (one row per S or t), :func:`evaluate_setting` (a row from precomputed scores),
  :func:`setting_row` (a sweep row for any setting, per-label thresholds included), :func:`figures`
  (the protected search's figures, independent of its vectorised counts).
- Budget checks: :func:`within_budget` (``calibrate``), :func:`_bounds_ok` (the protected search), and
  :func:`recommend_threshold`'s own rule (``evaluate``).
- Searches: :func:`recommend_threshold` (``evaluate``'s recommended S on its grid), :func:`calibrate_policy`
  (``calibrate --max-accuracy-loss``: exhaustive per policy), :func:`calibrate_protected` (``calibrate
  --max-recall-loss``: every rule, per-label thresholds included).

Everything works on precomputed logits of all off-ramps, float (N, n, C), and gold label indices int (N,):
early exit only decides which off-ramp's row counts, so one forward pass serves every setting.

``calibrate --max-accuracy-loss`` candidates (so the search is exhaustive, not a grid):

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

import math
from decimal import Decimal

import numpy as np

from . import exits
from .evaluate import CLASS_KEYS, class_metrics


# ------------------------------------------------------------------------------------------ units
def fraction_to_points(fraction: float) -> float:
    """``fraction`` (0.0025) in percentage points (0.25), through its shortest decimal form, so that a value
    typed as a decimal converts exactly and :func:`points_to_fraction` gives the same float back (plain
    ``0.007 * 100`` is ``0.7000000000000001``)."""
    return float(Decimal(repr(float(fraction))) * 100)


def points_to_fraction(points: float) -> float:
    """``points`` percentage points (0.25) as a fraction (0.0025), the inverse of :func:`fraction_to_points`
    (exact for values with at most 15 significant digits)."""
    return float(Decimal(repr(float(points))) / 100)


# --------------------------------------------------------------------------------- grids and rows
def default_thresholds(num_labels: int, policy: str = "entropy", num_layers: int | None = None) -> list[float]:
    """The sweep's grid, :func:`exits.setting_grid` (patience needs ``num_layers``)."""
    if policy == exits.PATIENCE and num_layers is None:
        raise ValueError("patience sweeps need num_layers")
    return exits.setting_grid(num_labels, num_layers or 0, policy)


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


def sweep(all_logits: np.ndarray, labels: np.ndarray, thresholds, policy: str = "entropy",
          label_names: list[str] | None = None) -> list[dict]:
    """Accuracy, exit-layer histogram and expected saving for each threshold (paper Figs. 2 and 6).

    Args:
        all_logits: float (N, n, C), every off-ramp's logits. labels: int (N,) gold label indices.
        thresholds: S values in nats (entropy, divergence) or patience values t in layers (patience).
        policy: ``entropy``, ``divergence`` or ``patience``.
        label_names: the task's labels in logits order; when given, each row also has
            :func:`evaluate.class_metrics`' ``per_class``, ``macro_f1`` and ``confusion_matrix`` (left out
            otherwise: callers that sweep thousands of settings only need accuracy).
    Returns:
        One row per threshold, in order: ``{"policy", "threshold" (float), "accuracy" (fraction),
        "exit_histogram" (inputs per exit layer 1..n), "mean_exit_layer", "expected_saving" (eq. 2,
        fraction)}``.
    """
    n = all_logits.shape[1]
    rows = []
    for s in thresholds:
        layer = exits.exit_layers(all_logits, s, policy)
        pred = all_logits[np.arange(len(layer)), layer - 1].argmax(axis=-1)
        row = {
            "policy": policy,
            "threshold": float(s),
            "accuracy": float((pred == labels).mean()),
            "exit_histogram": np.bincount(layer, minlength=n + 1)[1:].tolist(),
            "mean_exit_layer": float(layer.mean()),
            "expected_saving": exits.expected_saving(layer, n),
        }
        if label_names is not None:
            row.update(class_metrics(labels, pred, label_names))
        rows.append(row)
    return rows


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


def setting_row(all_logits: np.ndarray, gold: np.ndarray, setting: exits.ExitSetting, label_names: list[str]) -> dict:
    """A row like :func:`sweep`'s (``policy``, ``threshold``, ``accuracy``, ``exit_histogram``,
    ``mean_exit_layer``, ``expected_saving`` and :func:`evaluate.class_metrics`' keys) for any setting: the
    sweep's own row for a single S or t, and for per-label thresholds the same keys plus
    ``label_thresholds`` ``{label name: S}`` after ``threshold`` (the other labels' S)."""
    if setting.label_thresholds is None and setting.layer_thresholds is None:
        return sweep(all_logits, gold, [setting.threshold], setting.policy, label_names)[0]
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
    row.update(class_metrics(gold, answer, label_names))
    return row


def setting_classes(all_logits: np.ndarray, scores: np.ndarray, labels: np.ndarray, setting: exits.ExitSetting,
                    label_names: list[str]) -> dict:
    """``{"dev_classes", "full_dev_classes"}``: :func:`evaluate.class_metrics` of ``setting`` and of the
    full model (every input through the last off-ramp) on the given dev logits (N, n, C), scores (N, n)
    and gold indices (N,)."""
    layer = exits.exit_layers_from_scores(scores, setting)
    pred = all_logits[np.arange(len(layer)), layer - 1].argmax(axis=-1)
    return {"dev_classes": class_metrics(labels, pred, label_names),
            "full_dev_classes": class_metrics(labels, all_logits[:, -1].argmax(axis=-1), label_names)}


# ------------------------------------------------------------------------------- accuracy budget
def within_budget(accuracy: float, full_accuracy: float, max_accuracy_loss_pt: float) -> bool:
    """Whether ``accuracy`` (fraction) is at most ``max_accuracy_loss_pt`` percentage points below
    ``full_accuracy`` (fraction). A 1e-9-point slack absorbs float rounding of count / N, so a loss of
    exactly the budget counts as within it."""
    return (full_accuracy - accuracy) * 100.0 <= max_accuracy_loss_pt + 1e-9


def recommend_threshold(dev_sweep: list[dict], dev_last_accuracy: float, max_accuracy_loss_pt: float = 0.25) -> dict:
    """``evaluate``'s recommended S, chosen on the DEV split only: the row of ``dev_sweep`` with the largest
    expected saving whose dev accuracy is at most ``max_accuracy_loss_pt`` below the last off-ramp's dev
    accuracy; ties go to the smaller threshold.

    The check is the one the recorded rule states, in fractions and without slack:
    ``accuracy >= dev_last_accuracy - fraction`` with ``fraction = points_to_fraction(max_accuracy_loss_pt)``
    (0.25 pt -> ``"... - 0.0025"`` in ``rule``), unlike :func:`within_budget`'s 1e-9-point slack.

    Args:
        dev_sweep: :func:`sweep` rows on dev (with per-class keys when made with label names); at least the
            full model's setting (S = 0) must qualify, which it does for any budget >= 0.
        dev_last_accuracy: the last off-ramp's dev accuracy, fraction.
        max_accuracy_loss_pt: budget in percentage points (0.25 = a quarter of a point).
    Returns:
        ``{"policy", "value" (S or t), "chosen_on": "dev", "rule", "dev_accuracy", "dev_expected_saving"}``,
        plus ``dev_classes`` (:data:`evaluate.CLASS_KEYS` of the chosen row) when the rows have per-class keys.
    Raises:
        ValueError: no row within the budget.
    """
    max_accuracy_drop = points_to_fraction(max_accuracy_loss_pt)
    ok = [r for r in dev_sweep if r["accuracy"] >= dev_last_accuracy - max_accuracy_drop]
    best = max(ok, key=lambda r: (r["expected_saving"], -r["threshold"]))
    rec = {"policy": best["policy"], "value": best["threshold"], "chosen_on": "dev",
           "rule": f"largest expected saving with dev accuracy >= last off-ramp's dev accuracy - {max_accuracy_drop}",
           "dev_accuracy": best["accuracy"], "dev_expected_saving": best["expected_saving"]}
    if "per_class" in best:  # a sweep made with label names: the chosen setting's dev figures per class too
        rec["dev_classes"] = {k: best[k] for k in CLASS_KEYS}
    return rec


def calibrate_policy(all_logits: np.ndarray, labels: np.ndarray, policy: str, max_accuracy_loss_pt: float,
                     label_names: list[str] | None = None) -> dict:
    """The cheapest setting of one policy within the accuracy budget, on the given (dev) logits.

    Args:
        all_logits: float (N, n, C), every off-ramp's logits on dev.
        labels: int (N,), gold label indices.
        policy: ``entropy``, ``divergence`` or ``patience``.
        max_accuracy_loss_pt: budget in percentage points (0.5 = half a point), finite and >= 0.
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
    if not math.isfinite(max_accuracy_loss_pt) or max_accuracy_loss_pt < 0:
        raise ValueError(f"max accuracy loss must be a finite number >= 0 (percentage points), got {max_accuracy_loss_pt}")
    all_logits, labels = np.asarray(all_logits), np.asarray(labels)
    if len(all_logits) == 0:
        raise ValueError("calibration needs at least one dev input")
    full = float((all_logits[:, -1].argmax(axis=-1) == labels).mean())
    scores = exits.exit_scores(all_logits, policy)
    values = candidate_settings(scores, policy)
    best, best_key = None, None
    for v in values:
        row = evaluate_setting(all_logits, scores, labels, exits.ExitSetting(policy, v))
        if not within_budget(row["accuracy"], full, max_accuracy_loss_pt):
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


# ---------------------------------------------------------------------------------------------------
# Protected-label search: ``calibrate --max-recall-loss LABEL:POINTS``
# ---------------------------------------------------------------------------------------------------

#: Default of ``--max-false-alarm-increase``, in percentage points: each other label's dev recall may fall at
#: most this far below the full model's. 1.0 point of the committed model's 616 dev ham is 6 more ham flagged
#: as spam: a reviewer's extra load, while the protected budget is about one more spam let through.
DEFAULT_MAX_FALSE_ALARM_INCREASE_PT = 1.0
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
               max_recall_loss_pt: float, max_false_alarm_increase_pt: float, max_accuracy_loss_pt: float | None) -> np.ndarray:
    """bool (...): the candidates whose dev recall of the protected label is within ``max_recall_loss_pt``
    points of the full model's, every other label's within ``max_false_alarm_increase_pt`` points, and (when
    given) accuracy within ``max_accuracy_loss_pt`` points. A 1e-9-point slack absorbs float rounding of
    count / support, so a loss of exactly the budget counts as within it."""
    safe = np.maximum(support, 1)   # a label absent from dev has recall 0 for every setting: drop 0
    drop_points = (full_correct - counts["correct"]) / safe * 100.0         # (..., C)
    bound = np.full(len(support), max_false_alarm_increase_pt, dtype=np.float64)
    bound[protected] = max_recall_loss_pt
    ok = (drop_points <= bound + 1e-9).all(axis=-1)
    if max_accuracy_loss_pt is not None:
        acc_drop = (full_correct.sum() - counts["correct"].sum(axis=-1)) / total * 100.0
        ok &= acc_drop <= max_accuracy_loss_pt + 1e-9
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


def search_rule(all_logits: np.ndarray, gold: np.ndarray, rule: str, protected: int, max_recall_loss_pt: float,
                max_false_alarm_increase_pt: float, max_accuracy_loss_pt: float | None = None,
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
        max_recall_loss_pt, max_false_alarm_increase_pt, max_accuracy_loss_pt: percentage points (None: no accuracy bound).
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
        ok = _bounds_ok(counts, support, full_correct, N, protected, max_recall_loss_pt, max_false_alarm_increase_pt,
                        max_accuracy_loss_pt)
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
                        max_recall_loss_pt: float, max_false_alarm_increase_pt: float = DEFAULT_MAX_FALSE_ALARM_INCREASE_PT,
                        max_accuracy_loss_pt: float | None = None, rules: tuple[str, ...] = RULES,
                        old_setting: exits.ExitSetting | None = None,
                        max_axis_candidates: int = MAX_AXIS_CANDIDATES) -> dict:
    """The setting with the highest expected saving (DeeBERT eq. 2) whose dev recall of ``protected_label``
    stays within ``max_recall_loss_pt`` percentage points of the full model's (the last off-ramp's), whose
    every other label's dev recall stays within ``max_false_alarm_increase_pt`` points of the full model's
    (each point lost there is that share of the label's inputs now answered wrongly, in a 2-label task all
    flagged as the protected label), and, when given, whose dev accuracy stays within ``max_accuracy_loss_pt``
    points. Searched over ``rules`` (:func:`search_rule`); ties: higher saving, then higher protected recall,
    then fewer false alarms, then the more cautious setting, then the earlier rule in :data:`RULES`.

    Args:
        all_logits: float (N, n, C), every off-ramp's logits on dev. gold: int (N,) label indices.
        label_names: the task's labels in logits order (C).
        protected_label: one of ``label_names``; dev must hold at least one input of it.
        max_recall_loss_pt, max_false_alarm_increase_pt, max_accuracy_loss_pt: percentage points, finite, >= 0
            (``max_accuracy_loss_pt`` None: no accuracy bound).
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
    for name, v in (("max recall loss", max_recall_loss_pt), ("max false alarm increase", max_false_alarm_increase_pt),
                    ("max accuracy loss", 0.0 if max_accuracy_loss_pt is None else max_accuracy_loss_pt)):
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
        r = search_rule(all_logits, gold, rule, p, max_recall_loss_pt, max_false_alarm_increase_pt, max_accuracy_loss_pt,
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
    out = {"label": protected_label, "max_recall_loss_points": max_recall_loss_pt,
           "max_false_alarm_increase_points": max_false_alarm_increase_pt, "max_accuracy_loss_points": max_accuracy_loss_pt,
           "candidates": {k: v["candidates"] for k, v in results.items()},
           "full": describe("full model", exits.ExitSetting(exits.ENTROPY, 0.0), full),
           "chosen": {k: v for k, v in results[chosen_rule].items() if k != "candidates"},
           "rules": results}
    if old_setting is not None:
        old_setting.validate(n, len(label_names))
        row = describe(setting_rule(old_setting), old_setting,
                       figures(all_logits, gold, old_setting, label_names, p))
        row["within_bounds"] = bool(
            row["recall_loss_points"] <= max_recall_loss_pt + 1e-9
            and all(v <= max_false_alarm_increase_pt + 1e-9 for v in row["other_recall_drop_points"].values())
            and (max_accuracy_loss_pt is None or row["accuracy_loss_points"] <= max_accuracy_loss_pt + 1e-9))
        out["old_recommended"] = row
    return out
