"""Evaluation as in the DeeBERT paper's scripts: per-off-ramp accuracy (Fig. 4) and an exit-threshold
sweep with accuracy, exit-layer histogram and expected saving (eq. 2; Figs. 2 and 6).

Everything here works on precomputed logits of ALL off-ramps, float32 (N, n, C): early exit only
decides which row of them counts, so one forward pass serves every threshold. The exit maths itself
(scores, policies, exit layers, expected saving) is :mod:`deebert_export.exits`.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from . import exits

def per_layer_accuracy(all_logits: np.ndarray, labels: np.ndarray) -> list[float]:
    """Accuracy of every off-ramp when all inputs are forced to exit there (paper Fig. 4); index 0 = layer 1."""
    pred = all_logits.argmax(axis=-1)  # (N, n)
    return [float(x) for x in (pred == labels[:, None]).mean(axis=0)]


def sweep(all_logits: np.ndarray, labels: np.ndarray, thresholds, policy: str = "entropy") -> list[dict]:
    """Accuracy, exit-layer histogram and expected saving for each threshold (paper Figs. 2 and 6): S in
    nats for entropy/divergence, the patience in layers for patience."""
    n = all_logits.shape[1]
    rows = []
    for s in thresholds:
        layer = exits.exit_layers(all_logits, s, policy)
        pred = all_logits[np.arange(len(layer)), layer - 1].argmax(axis=-1)
        rows.append({
            "policy": policy,
            "threshold": float(s),
            "accuracy": float((pred == labels).mean()),
            "exit_histogram": np.bincount(layer, minlength=n + 1)[1:].tolist(),
            "mean_exit_layer": float(layer.mean()),
            "expected_saving": exits.expected_saving(layer, n),
        })
    return rows


def default_thresholds(num_labels: int, policy: str = "entropy", num_layers: int | None = None) -> list[float]:
    """The sweep's grid, :func:`exits.setting_grid` (patience needs ``num_layers``)."""
    if policy == exits.PATIENCE and num_layers is None:
        raise ValueError("patience sweeps need num_layers")
    return exits.setting_grid(num_labels, num_layers or 0, policy)


def recommend_threshold(dev_sweep: list[dict], dev_last_accuracy: float, max_accuracy_drop: float = 0.0025) -> dict:
    """Chooses S on the DEV split only: the largest expected saving whose dev accuracy is at most
    ``max_accuracy_drop`` (absolute, 0.0025 = 0.25 points) below the last off-ramp's dev accuracy.
    """
    ok = [r for r in dev_sweep if r["accuracy"] >= dev_last_accuracy - max_accuracy_drop]
    best = max(ok, key=lambda r: (r["expected_saving"], -r["threshold"]))
    return {"policy": best["policy"], "value": best["threshold"], "chosen_on": "dev",
            "rule": f"largest expected saving with dev accuracy >= last off-ramp's dev accuracy - {max_accuracy_drop}",
            "dev_accuracy": best["accuracy"], "dev_expected_saving": best["expected_saving"]}


def write_reports(out_dir: Path, split: str, layer_acc: list[float], sweeps: dict[str, list[dict]]) -> None:
    """Writes ``<split>_per_layer_accuracy.{json,csv}``, ``<split>_sweep_<policy>.{json,csv}`` and PNG plots."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{split}_per_layer_accuracy.json").write_text(json.dumps(layer_acc, indent=1))
    with open(out_dir / f"{split}_per_layer_accuracy.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["exit_layer", "accuracy"])
        w.writerows([[i + 1, a] for i, a in enumerate(layer_acc)])
    for policy, rows in sweeps.items():
        (out_dir / f"{split}_sweep_{policy}.json").write_text(json.dumps(rows, indent=1))
        with open(out_dir / f"{split}_sweep_{policy}.csv", "w", newline="") as f:
            w = csv.writer(f)
            n = len(rows[0]["exit_histogram"])
            w.writerow(["policy", "threshold", "accuracy", "expected_saving", "mean_exit_layer"]
                       + [f"exits_layer_{i + 1}" for i in range(n)])
            for r in rows:
                w.writerow([r["policy"], r["threshold"], r["accuracy"], r["expected_saving"], r["mean_exit_layer"]]
                           + r["exit_histogram"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    axes[0].plot(range(1, len(layer_acc) + 1), [100 * a for a in layer_acc], marker="o")
    axes[0].set(xlabel="exit layer (all inputs forced out there)", ylabel="accuracy (%)",
                title=f"per-off-ramp accuracy ({split})")
    for policy, rows in sweeps.items():
        axes[1].plot([100 * r["expected_saving"] for r in rows], [100 * r["accuracy"] for r in rows],
                     marker=".", label=policy)
    axes[1].set(xlabel="expected saving (%), eq. 2", ylabel="accuracy (%)", title=f"threshold sweep ({split})")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(out_dir / f"{split}_evaluation.png", dpi=100)
    plt.close(fig)
