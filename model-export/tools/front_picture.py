"""Draws the README's picture: a model's test accuracy and protected-label recall against expected saving.

The curve is the model's entropy sweep on its test split (``eval/test_sweep_entropy.csv``: one S for every
label, as ``evaluate`` writes it); the marked point is the model card's recommended setting on the same split
(``recommended_threshold.test``; for the default model a label-conditional setting chosen on dev by
``calibrate --max-recall-loss``). Expected saving is DeeBERT's eq. 2, ``1 - sum_i i*N_i / (n*N)``, in percent.

Run from ``model-export/`` (the README's picture was made this way)::

    .venv/bin/python tools/front_picture.py models/deebert-spamassassin-minilm-l6 ../docs/images/accuracy-vs-saving.png

Raises ``SystemExit`` with one line when the model directory lacks the sweep or the card's test figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before pyplot loads)


def read_sweep(model_dir: Path) -> list[dict[str, float]]:
    """The test entropy sweep's rows as floats (threshold in nats, accuracy and recalls as fractions)."""
    path = model_dir / "eval" / "test_sweep_entropy.csv"
    if not path.exists():
        raise SystemExit(f"error: {path} does not exist; run `python -m deebert_export evaluate` first")
    with path.open(newline="") as f:
        return [{k: float(v) for k, v in row.items() if k != "policy"} for row in csv.DictReader(f)]


def draw(model_dir: Path, out: Path) -> None:
    """Writes the PNG (1100 x 420 px at 100 dpi) to ``out``."""
    card = json.loads((model_dir / "model_card.json").read_text())
    label = card.get("protected_label") or card["labels"][-1]
    recommended = card.get("recommended_threshold", {}).get("test")
    if recommended is None:
        raise SystemExit(f"error: {model_dir}/model_card.json has no recommended_threshold.test figures")
    rows = sorted(read_sweep(model_dir), key=lambda r: r["expected_saving"])
    saving = [100 * r["expected_saving"] for r in rows]

    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=100)
    ax.plot(saving, [100 * r["accuracy"] for r in rows], color="tab:blue", label="accuracy (one S for all labels)")
    ax.plot(saving, [100 * r[f"recall_{label}"] for r in rows], color="tab:red", linestyle="--",
            label=f"{label} recall (one S for all labels)")
    x = 100 * recommended["expected_saving"]
    acc = 100 * recommended["accuracy"]
    rec = 100 * recommended["per_class"][label]["recall"]
    thresholds = recommended.get("label_thresholds") or {"all": recommended["threshold"]}
    setting = ", ".join(f"{k} {v:.3f}" for k, v in thresholds.items())
    ax.scatter([x, x], [acc, rec], color=["tab:blue", "tab:red"], s=70, zorder=3, edgecolors="black")
    ax.annotate(f"model card's setting (S: {setting} nats)\naccuracy {acc:.1f} %, {label} recall {rec:.1f} %, "
                f"saving {x:.0f} %", xy=(x, rec), xytext=(x - 62, rec - 3.2),
                arrowprops={"arrowstyle": "->"}, fontsize=9)
    ax.set_xlabel("expected saving (%), DeeBERT eq. 2: share of layer computations skipped")
    ax.set_ylabel("% on the test split")
    ax.set_title(f"{card['name']} {card['version']}: early exit trades layers for accuracy "
                 f"({sum(recommended['exit_histogram'])} test texts)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, metadata={"Software": None})  # no version string: the same inputs give the same bytes
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", type=Path, help="an exported model directory (with eval/ and model_card.json)")
    parser.add_argument("out", type=Path, help="the PNG to write")
    args = parser.parse_args(argv)
    draw(args.model_dir, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
