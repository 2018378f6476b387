"""Evaluation as in the DeeBERT paper's scripts: per-off-ramp accuracy (Fig. 4) and an exit-threshold
sweep with accuracy, exit-layer histogram and expected saving (eq. 2; Figs. 2 and 6), each also per class
(precision, recall, F1, macro-F1 and confusion matrix, from ``sklearn.metrics``): moderation is judged
per class, above all on the protected label's recall, which accuracy alone hides.

Everything here works on precomputed logits of ALL off-ramps, float32 (N, n, C): early exit only
decides which row of them counts, so one forward pass serves every threshold. The exit maths itself
(scores, policies, exit layers, expected saving) is :mod:`deebert_export.exits`; the sweep, its grid and
the recommended S (the choice of a setting within an accuracy budget) are :mod:`deebert_export.selection`.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

#: Default floor of ``--min-label-recall``: a label whose dev recall at the last off-ramp is below it is
#: reported as weak. 0.5 means the model misses that label more often than it finds it, i.e. it does
#: worse on the label than a coin flip would; a label the model has learned at all clears it easily.
DEFAULT_MIN_LABEL_RECALL = 0.5
#: The keys :func:`class_metrics` adds to a result.
CLASS_KEYS = ("per_class", "macro_f1", "confusion_matrix")


def class_metrics(gold: np.ndarray, pred: np.ndarray, label_names: list[str]) -> dict:
    """Per-class precision, recall, F1 and support, macro-F1 and the confusion matrix of one set of
    predictions, from ``sklearn.metrics`` (``zero_division=0``: a label never predicted has precision 0).

    Args:
        gold, pred: int (N,) label indices (index i = ``label_names[i]``, the logits column).
        label_names: the task's labels in logits order, length C.
    Returns:
        ``{"per_class": {label: {"precision", "recall", "f1" (fractions), "support" (gold count),
        "predicted" (predicted count)}}, "macro_f1": fraction (unweighted mean of the C F1s),
        "confusion_matrix": {gold label: {predicted label: count}}}``, keys in logits order.
    """
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    idx = list(range(len(label_names)))
    precision, recall, f1, support = precision_recall_fscore_support(gold, pred, labels=idx, zero_division=0)
    cm = confusion_matrix(gold, pred, labels=idx)
    return {
        "per_class": {name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                             "support": int(support[i]), "predicted": int(cm[:, i].sum())}
                      for i, name in enumerate(label_names)},
        "macro_f1": float(f1_score(gold, pred, labels=idx, average="macro", zero_division=0)),
        "confusion_matrix": {g: {p: int(cm[i, j]) for j, p in enumerate(label_names)}
                             for i, g in enumerate(label_names)},
    }


def per_layer_class_metrics(all_logits: np.ndarray, labels: np.ndarray, label_names: list[str]) -> list[dict]:
    """:func:`class_metrics` of every off-ramp when all inputs are forced to exit there, plus its
    ``exit_layer`` (1-based) and ``accuracy`` (fraction); index 0 = layer 1.

    Args:
        all_logits: float32 (N, n, C) every off-ramp's logits. labels: int (N,) gold indices.
    """
    pred = all_logits.argmax(axis=-1)  # (N, n)
    return [{"exit_layer": k + 1, "accuracy": float((pred[:, k] == labels).mean()),
             **class_metrics(labels, pred[:, k], label_names)} for k in range(all_logits.shape[1])]


def check_label(label: str | None, label_names: list[str], option: str = "--protect-label") -> str | None:
    """Returns ``label`` if it is one of ``label_names`` (or None).

    Raises:
        ValueError: with a one-line message naming the known labels.
    """
    if label is not None and label not in label_names:
        raise ValueError(f"{option} {label!r}: not a label of this task; its labels are {', '.join(label_names)}")
    return label


def weak_labels(last_layer: dict, min_recall: float) -> list[dict]:
    """The weak labels at the last off-ramp: never predicted, or recall below ``min_recall``.

    Args:
        last_layer: :func:`class_metrics` (or a :func:`per_layer_class_metrics` entry) of the last off-ramp.
        min_recall: recall floor, fraction in [0, 1].
    Returns:
        One ``{"label", "recall" (fraction), "support" (gold count), "predicted" (predicted count),
        "never_predicted" (bool)}`` per weak label, in logits order; empty when every label is fine.
    """
    return [{"label": name, "recall": m["recall"], "support": m["support"], "predicted": m["predicted"],
             "never_predicted": m["predicted"] == 0}
            for name, m in last_layer["per_class"].items() if m["predicted"] == 0 or m["recall"] < min_recall]


def weak_label_warnings(last_layer: dict, min_recall: float, split: str = "dev") -> list[str]:
    """One message per weak label at the last off-ramp (:func:`weak_labels`).

    Args:
        last_layer: :func:`class_metrics` (or a :func:`per_layer_class_metrics` entry) of the last off-ramp.
        min_recall: recall floor, fraction in [0, 1].
        split: the split the figures come from, named in the message.
    Returns:
        Messages in logits order, e.g. ``"weak label 'spam': never predicted on dev by the last
        off-ramp (recall 0.000 over 40 inputs)"``; empty when every label is fine.
    """
    out = []
    for w in weak_labels(last_layer, min_recall):
        if w["never_predicted"]:
            out.append(f"weak label {w['label']!r}: never predicted on {split} by the last off-ramp "
                       f"(recall {w['recall']:.3f} over {w['support']} inputs)")
        else:
            out.append(f"weak label {w['label']!r}: {split} recall {w['recall']:.3f} at the last off-ramp is below "
                       f"--min-label-recall {min_recall} ({w['support']} inputs)")
    return out


def selection_metric(spec: str, gold: np.ndarray, pred: np.ndarray, label_names: list[str]) -> float:
    """The ``--select-on`` metric of one set of predictions, from ``sklearn.metrics``.

    Args:
        spec: ``"macro-f1"`` (unweighted mean of the C F1s, ``zero_division=0``), ``"accuracy"`` or
            ``"recall:LABEL"`` (that label's recall; 0 when it has no gold row).
        gold, pred: int (N,) label indices (index i = ``label_names[i]``).
        label_names: the task's labels in logits order, length C.
    Returns:
        The metric, a fraction in [0, 1].
    Raises:
        ValueError: a malformed ``spec`` (or ``"last"``, which computes nothing), or an unknown label.
    """
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    from .config import check_select_on, parse_select_on
    check_select_on(spec, label_names)
    kind, label = parse_select_on(spec)
    if kind == "macro-f1":
        return float(f1_score(gold, pred, labels=list(range(len(label_names))), average="macro", zero_division=0))
    if kind == "accuracy":
        return float(accuracy_score(gold, pred))
    if kind == "recall":
        return float(recall_score(gold, pred, labels=[label_names.index(label)], average=None, zero_division=0)[0])
    raise ValueError(f"--select-on {spec!r} is not a metric")


def recall_change(label: str, full: dict, chosen: dict) -> str:
    """``"spam recall 0.985 -> 0.974"``: ``label``'s recall for the full model (``full``) and a setting
    (``chosen``), both :func:`class_metrics`-like dicts (sweep rows qualify)."""
    return f"{label} recall {full['per_class'][label]['recall']:.3f} -> {chosen['per_class'][label]['recall']:.3f}"


def per_layer_accuracy(all_logits: np.ndarray, labels: np.ndarray) -> list[float]:
    """Accuracy of every off-ramp when all inputs are forced to exit there (paper Fig. 4); index 0 = layer 1."""
    pred = all_logits.argmax(axis=-1)  # (N, n)
    return [float(x) for x in (pred == labels[:, None]).mean(axis=0)]


def _class_columns(label_names: list[str]) -> list[str]:
    """CSV header of :func:`class_metrics`' figures, appended after the older columns so readers of those
    keep working: macro-F1, then precision/recall/F1 per label, then the confusion matrix (gold, predicted)."""
    return (["macro_f1"] + [f"{m}_{name}" for name in label_names for m in ("precision", "recall", "f1")]
            + [f"gold_{g}_predicted_{p}" for g in label_names for p in label_names])


def _class_values(m: dict, label_names: list[str]) -> list:
    return ([m["macro_f1"]] + [m["per_class"][name][k] for name in label_names for k in ("precision", "recall", "f1")]
            + [m["confusion_matrix"][g][p] for g in label_names for p in label_names])


def write_reports(out_dir: Path, split: str, layer_acc: list[float], sweeps: dict[str, list[dict]],
                  layer_classes: list[dict] | None = None, protected_label: str | None = None) -> None:
    """Writes ``<split>_per_layer_accuracy.{json,csv}``, ``<split>_sweep_<policy>.{json,csv}`` and the
    ``<split>_evaluation.png`` plot; with ``layer_classes`` (:func:`per_layer_class_metrics`) also
    ``<split>_per_layer_classes.json``, per-class columns in the CSVs (sweep rows made with ``label_names``)
    and each label's recall in the plot, plus ``protected_label``'s recall along the sweeps.
    ``<split>_per_layer_accuracy.json`` stays a plain list of fractions (index 0 = layer 1)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    label_names = list(layer_classes[0]["per_class"]) if layer_classes else None
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{split}_per_layer_accuracy.json").write_text(json.dumps(layer_acc, indent=1))
    if layer_classes:
        (out_dir / f"{split}_per_layer_classes.json").write_text(json.dumps(layer_classes, indent=1))
    with open(out_dir / f"{split}_per_layer_accuracy.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["exit_layer", "accuracy"] + (_class_columns(label_names) if label_names else []))
        w.writerows([[i + 1, a] + (_class_values(layer_classes[i], label_names) if label_names else [])
                     for i, a in enumerate(layer_acc)])
    for policy, rows in sweeps.items():
        (out_dir / f"{split}_sweep_{policy}.json").write_text(json.dumps(rows, indent=1))
        per_class = label_names is not None and "per_class" in rows[0]
        with open(out_dir / f"{split}_sweep_{policy}.csv", "w", newline="") as f:
            w = csv.writer(f)
            n = len(rows[0]["exit_histogram"])
            w.writerow(["policy", "threshold", "accuracy", "expected_saving", "mean_exit_layer"]
                       + [f"exits_layer_{i + 1}" for i in range(n)] + (_class_columns(label_names) if per_class else []))
            for r in rows:
                w.writerow([r["policy"], r["threshold"], r["accuracy"], r["expected_saving"], r["mean_exit_layer"]]
                           + r["exit_histogram"] + (_class_values(r, label_names) if per_class else []))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    layers = range(1, len(layer_acc) + 1)
    axes[0].plot(layers, [100 * a for a in layer_acc], marker="o", label="accuracy")
    for name in label_names or []:
        axes[0].plot(layers, [100 * m["per_class"][name]["recall"] for m in layer_classes], marker=".",
                     linestyle="--", label=f"recall {name}" + (" (protected)" if name == protected_label else ""))
    axes[0].set(xlabel="exit layer (all inputs forced out there)", ylabel="%",
                title=f"per-off-ramp accuracy and recall ({split})")
    if label_names:
        axes[0].legend()
    for policy, rows in sweeps.items():
        line, = axes[1].plot([100 * r["expected_saving"] for r in rows], [100 * r["accuracy"] for r in rows],
                             marker=".", label=f"{policy}: accuracy")
        if protected_label is not None and "per_class" in rows[0]:
            axes[1].plot([100 * r["expected_saving"] for r in rows],
                         [100 * r["per_class"][protected_label]["recall"] for r in rows],
                         linestyle="--", color=line.get_color(), label=f"{policy}: {protected_label} recall")
    axes[1].set(xlabel="expected saving (%), eq. 2", ylabel="%", title=f"threshold sweep ({split})")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(out_dir / f"{split}_evaluation.png", dpi=100)
    plt.close(fig)


def setting_summary(name: str, full: dict, chosen: dict, protected_label: str | None) -> str:
    """One human-readable line comparing a setting with the full model (every input through the last
    off-ramp) on the same split, e.g. ``"test, entropy S=0.141725: accuracy 98.09% -> 97.75%
    (-0.34 pt), spam recall 0.985 -> 0.974, expected saving 71.1%"``.

    Args:
        name: what the figures are ("test, entropy S=0.141725").
        full: the last off-ramp's figures (a :func:`per_layer_class_metrics` entry).
        chosen: the setting's sweep row (``accuracy``, ``expected_saving``, and ``per_class`` when
            ``protected_label`` is given).
        protected_label: label whose recall is shown, or None.
    """
    line = (f"{name}: accuracy {100 * full['accuracy']:.2f}% -> {100 * chosen['accuracy']:.2f}% "
            f"({100 * (chosen['accuracy'] - full['accuracy']):+.2f} pt)")
    if protected_label is not None:
        line += ", " + recall_change(protected_label, full, chosen)
    return line + f", expected saving {100 * chosen['expected_saving']:.1f}%"
