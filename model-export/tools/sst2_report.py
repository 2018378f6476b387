"""The SST-2 report: DeeBERT's experiments (Xin et al. 2020, section 4) on one backbone,
with the runtime measured by the Java classifier, and the comparison of the training regimes.

Inputs are the work directories that ``python -m deebert_export run`` leaves (``data/{dev,test}.jsonl``,
``eval/{dev,test}_all_logits.npy``, ``train/train_config.json``) and, for the measured runtime, the
JSON files of the Java ``ClassifierBenchmark`` (batch 1, one file per exit policy). ``dev`` is the
held-out slice of the training set (thresholds are chosen there), ``test`` is GLUE SST-2 dev (872
sentences, where every number of the report is taken). The command that writes everything is
``bash model-export/scripts/sst2-report.sh``; this tool (``python tools/sst2_report.py``, from
``model-export/``, with the ``deebert_export`` package installed or on ``PYTHONPATH``) has two steps:

- ``plan``: the settings the Java benchmark must measure, per policy (a fixed grid plus the settings
  chosen on dev for the Table 1 rows), one ``POLICY<TAB>v1,v2,...`` line each;
- ``write``: figures (PNG), ``results.json`` and the markdown report.

Definitions (one place each): exit layers and expected saving are :mod:`deebert_export.exits`
(paper eq. 2); the dev-side choice of a setting within an accuracy budget is
:func:`deebert_export.selection.calibrate_policy`. Measured runtime saving at a setting is
``1 - t(setting) / t(full model)``, with ``t`` the Java benchmark's median wall time for the whole set
at batch 1 and ``t(full model)`` the same policy's no-exit setting (S = 0, or patience t = n: every
input runs all n layers), timed in the same JVM, round-robin with the other settings.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deebert_export import evaluate as ev
from deebert_export import exits
from deebert_export.selection import calibrate_policy, sweep
from deebert_export.data import read_jsonl

#: The DeeBERT paper's SST-2 row (Table 1, BERT-base, GLUE test server).
PAPER = {"baseline_accuracy": 93.6, "rows": [{"accuracy_delta_points": -0.6, "runtime_saving": 0.40},
                                              {"accuracy_delta_points": -2.1, "runtime_saving": 0.47}]}
#: Budgets (percentage points of dev accuracy) of the Table 1 analogue's rows.
BUDGETS = (0.5, 2.0)
#: The S grid (nats) measured in Java besides the dev-chosen settings: entropy tops out at ln 2 = 0.693.
ENTROPY_GRID = (0.0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
#: Jensen-Shannon divergence between neighbouring off-ramps is small: a geometric grid up to ln 2.
DIVERGENCE_GRID = (0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 0.7)
#: Fig. 6's S values (entropy, nats).
HISTOGRAM_S = (0.001, 0.01, 0.05, 0.1, 0.3, 0.6)


@dataclass
class Run:
    """One trained model's off-ramp logits on dev and test.

    Attributes:
        name: regime label (``two-stage``, ``joint``, ``bypass``).
        dev_logits, test_logits: float32 (N, n, C) every off-ramp's logits.
        dev_labels, test_labels: int (N,) label indices.
        train: ``train/train_config.json`` of the run.
    """

    name: str
    work_dir: Path
    dev_logits: np.ndarray
    test_logits: np.ndarray
    dev_labels: np.ndarray
    test_labels: np.ndarray
    train: dict = field(default_factory=dict)

    @property
    def num_layers(self) -> int:
        return self.test_logits.shape[1]

    @classmethod
    def load(cls, name: str, work_dir: Path) -> "Run":
        """Reads a ``run`` work directory.

        Raises:
            FileNotFoundError: a file of the work directory is missing (the run did not finish).
        """
        work_dir = Path(work_dir)
        train = json.loads((work_dir / "train" / "train_config.json").read_text())
        labels = train["labels"]

        def split(s):
            y = np.array([labels.index(e.label) for e in read_jsonl(work_dir / "data" / f"{s}.jsonl")])
            return np.load(work_dir / "eval" / f"{s}_all_logits.npy"), y

        (dl, dy), (tl, ty) = split("dev"), split("test")
        return cls(name, work_dir, dl, tl, dy, ty, train)


def parse_runs(specs: list[str]) -> list[Run]:
    """``NAME=WORK_DIR`` strings to loaded runs (first one = the DeeBERT two-stage model)."""
    runs = []
    for spec in specs:
        name, _, path = spec.partition("=")
        if not path:
            raise ValueError(f"--run wants NAME=WORK_DIR, got {spec!r}")
        runs.append(Run.load(name, Path(path)))
    return runs


def full_accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy (fraction) with every input through the last off-ramp."""
    return float((logits[:, -1].argmax(-1) == labels).mean())


def grid(policy: str, num_layers: int) -> list[float]:
    """The settings every curve of the report uses for ``policy`` (nats, or layers for patience)."""
    if policy == exits.ENTROPY:
        return list(ENTROPY_GRID)
    if policy == exits.DIVERGENCE:
        return list(DIVERGENCE_GRID)
    return [float(t) for t in range(1, num_layers + 1)]


def chosen_settings(run: Run, budgets=BUDGETS) -> dict[str, list[dict]]:
    """Per policy and budget, the setting chosen on DEV (cheapest within the budget, as ``calibrate``),
    evaluated on test.

    Returns:
        ``{policy: [{"budget_points", "value", "dev_accuracy", "dev_expected_saving", "test_accuracy",
        "test_accuracy_delta_points", "test_expected_saving", "test_exit_histogram"}]}``.
    """
    out = {}
    full_test = full_accuracy(run.test_logits, run.test_labels)
    for policy in exits.POLICIES:
        rows = []
        for budget in budgets:
            c = calibrate_policy(run.dev_logits, run.dev_labels, policy, budget)
            t = sweep(run.test_logits, run.test_labels, [c["value"]], policy)[0]
            rows.append({"budget_points": budget, "value": c["value"], "dev_accuracy": c["dev_accuracy"],
                         "dev_expected_saving": c["dev_expected_saving"], "test_accuracy": t["accuracy"],
                         "test_accuracy_delta_points": 100 * (t["accuracy"] - full_test),
                         "test_expected_saving": t["expected_saving"], "test_exit_histogram": t["exit_histogram"]})
        out[policy] = rows
    return out


def plan(run: Run) -> dict[str, list[float]]:
    """The settings the Java benchmark measures on ``run``'s model: each policy's grid plus its
    dev-chosen settings, sorted; each grid holds the policy's full-model setting (the reference time)."""
    chosen = chosen_settings(run)
    return {p: sorted(set(grid(p, run.num_layers)) | {float(r["value"]) for r in chosen[p]}) for p in exits.POLICIES}


def measured(java: dict, reference: dict) -> list[dict]:
    """Rows of one Java benchmark file (batch 1) with the measured runtime saving added.

    With K round-robin rounds (``events_per_s_runs``), round k's saving is ``1 - t_k(setting) / t_k(full)``
    = ``1 - eps_k(full) / eps_k(setting)``: both timed within the same few minutes, so a slow phase of a
    shared machine hits both. ``measured_saving`` is the median over rounds, ``measured_saving_range``
    the smallest and largest. Without per-round rates, the ratio of the median times.

    Args:
        java: the benchmark file's JSON.
        reference: its full-model result (S = 0, or patience t = n).
    """
    ref_runs = reference.get("events_per_s_runs") or []
    rows = []
    for r in java["results"]:
        if r["batch"] != 1:
            continue
        runs = r.get("events_per_s_runs") or []
        if ref_runs and len(runs) == len(ref_runs):
            per_round = [1.0 - full / eps for full, eps in zip(ref_runs, runs)]
        else:
            per_round = [1.0 - r["seconds"] / reference["seconds"]]
        rows.append({"threshold": r["threshold"], "accuracy": r["accuracy"], "seconds": r["seconds"],
                     "events_per_s": r["events_per_s"], "exit_histogram": r["exit_histogram"],
                     "expected_saving": r["expected_saving"],
                     "measured_saving": float(np.median(per_round)),
                     "measured_saving_range": [min(per_round), max(per_round)]})
    return rows


def full_model_setting(policy: str, num_layers: int) -> float:
    """The setting of ``policy`` under which no input exits early: S = 0, or patience t = n."""
    return float(num_layers) if policy == exits.PATIENCE else 0.0


def load_java(files: dict[str, Path]) -> dict[str, list[dict]]:
    """Java benchmark files per policy -> measured rows per policy. Each file's reference time is its
    own full-model run (S = 0, or t = n for patience), measured in the same JVM and round-robin as the
    other settings, so every saving is a ratio taken side by side.

    Raises:
        ValueError: a file lacks its batch-1 full-model run.
    """
    out = {}
    for policy, f in files.items():
        data = json.loads(Path(f).read_text())
        full = full_model_setting(policy, data["num_layers"])
        ref = [r for r in data["results"] if r["batch"] == 1 and r["threshold"] == full]
        if not ref:
            raise ValueError(f"{f}: no batch-1 run at {policy} {full} (the full-model reference time)")
        out[policy] = measured(data, ref[0])
    return out


def java_parity(run: Run, java_rows: dict[str, list[dict]]) -> dict:
    """Compares the Java exit histograms and accuracies with Python's on the same logits' settings.

    Returns:
        ``{"settings", "histograms_equal", "max_exit_count_difference", "max_accuracy_difference"}``.
    """
    n_settings, equal, max_count, max_acc = 0, 0, 0, 0.0
    for policy, rows in java_rows.items():
        for r in rows:
            py = sweep(run.test_logits, run.test_labels, [r["threshold"]], policy)[0]
            n_settings += 1
            diff = np.abs(np.array(py["exit_histogram"]) - np.array(r["exit_histogram"]))
            equal += int(diff.max() == 0)
            max_count = max(max_count, int(diff.max()))
            max_acc = max(max_acc, abs(py["accuracy"] - r["accuracy"]))
    return {"settings": n_settings, "histograms_equal": equal, "max_exit_count_difference": max_count,
            "max_accuracy_difference": max_acc}


def curves(run: Run) -> dict[str, list[dict]]:
    """Accuracy vs expected saving on test for every policy over its grid (eq. 2)."""
    return {p: sweep(run.test_logits, run.test_labels, grid(p, run.num_layers), p) for p in exits.POLICIES}


def results(runs: list[Run], java: dict[str, list[dict]] | None) -> dict:
    """Everything the report shows, as JSON-ready data."""
    out = {"runs": {}, "paper": PAPER}
    for run in runs:
        out["runs"][run.name] = {
            "work_dir": str(run.work_dir), "num_layers": run.num_layers,
            "num_dev": len(run.dev_labels), "num_test": len(run.test_labels),
            "train_examples": run.train.get("num_train_examples"),
            "train_config": run.train.get("train_config"),
            "train_seconds": {k: run.train[k]["seconds"] for k in ("stage1", "stage2", "joint") if k in run.train
                              and isinstance(run.train[k], dict) and "seconds" in run.train[k]},
            "command": run.train.get("command"),
            "test_per_layer_accuracy": ev.per_layer_accuracy(run.test_logits, run.test_labels),
            "dev_per_layer_accuracy": ev.per_layer_accuracy(run.dev_logits, run.dev_labels),
            "test_full_accuracy": full_accuracy(run.test_logits, run.test_labels),
            "chosen_on_dev": chosen_settings(run),
            "curves": curves(run),
        }
    if java is not None:
        out["java"] = {"model": runs[0].name, "measured": java, "parity": java_parity(runs[0], java)}
    return out


# ------------------------------------------------------------------------------------------- figures
def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def figures(res: dict, out_dir: Path) -> list[str]:
    """Writes the report's PNGs into ``out_dir``; returns their file names."""
    plt = _plt()
    out_dir.mkdir(parents=True, exist_ok=True)
    names = []
    runs = res["runs"]
    first = next(iter(runs))

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, r in runs.items():
        acc = r["test_per_layer_accuracy"]
        ax.plot(range(1, len(acc) + 1), [100 * a for a in acc], marker="o", label=name)
    ax.set(xlabel="exit layer (every input forced out there)", ylabel="accuracy on GLUE dev (%)",
           title="Fig. 4 analogue: per-off-ramp accuracy")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "fig4_per_layer_accuracy.png", dpi=100)
    names.append("fig4_per_layer_accuracy.png")
    plt.close(fig)

    r0 = runs[first]
    sweep = {row["threshold"]: row for row in r0["curves"][exits.ENTROPY]}
    fig, axes = plt.subplots(1, len(HISTOGRAM_S), figsize=(3 * len(HISTOGRAM_S), 3), sharey=True)
    for ax, s in zip(axes, HISTOGRAM_S):
        row = sweep.get(s)
        if row is None:
            continue
        h = row["exit_histogram"]
        ax.bar(range(1, len(h) + 1), h)
        ax.set(title=f"S = {s} nats\nacc {100 * row['accuracy']:.1f}%, saving {100 * row['expected_saving']:.0f}%",
               xlabel="exit layer")
    axes[0].set_ylabel("inputs")
    fig.suptitle(f"Fig. 6 analogue: exit layers at several S ({first}, entropy, GLUE dev)")
    fig.tight_layout()
    fig.savefig(out_dir / "fig6_exit_histograms.png", dpi=100)
    names.append("fig6_exit_histograms.png")
    plt.close(fig)

    if "java" in res:
        fig, ax = plt.subplots(figsize=(6, 4))
        for policy, rows in res["java"]["measured"].items():
            rows = sorted(rows, key=lambda x: x["measured_saving"])
            ax.plot([100 * x["measured_saving"] for x in rows], [100 * x["accuracy"] for x in rows],
                    marker="o", label=f"{policy} (measured, Java)")
        ax.axhline(100 * r0["test_full_accuracy"], color="grey", ls=":", label="full model")
        ax.set(xlabel="runtime saving measured in Java, batch 1 (%)", ylabel="accuracy on GLUE dev (%)",
               title=f"Fig. 2 analogue: accuracy vs runtime saving ({first})")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / "fig2_accuracy_vs_runtime.png", dpi=100)
        names.append("fig2_accuracy_vs_runtime.png")
        plt.close(fig)

        fig, ax = plt.subplots(figsize=(5, 5))
        for policy, rows in res["java"]["measured"].items():
            ax.scatter([100 * x["expected_saving"] for x in rows], [100 * x["measured_saving"] for x in rows],
                       label=policy, s=18)
        top = 100 * (1 - 1 / r0["num_layers"])
        ax.plot([0, top], [0, top], color="grey", ls=":", label="measured = expected")
        ax.set(xlabel="expected saving, eq. 2 (%)", ylabel="measured runtime saving, Java (%)",
               title="Fig. 3 analogue: expected vs measured saving")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / "fig3_expected_vs_measured.png", dpi=100)
        names.append("fig3_expected_vs_measured.png")
        plt.close(fig)

    fig, axes = plt.subplots(1, len(exits.POLICIES), figsize=(5 * len(exits.POLICIES), 4), sharey=True)
    for ax, policy in zip(axes, exits.POLICIES):
        for name, r in runs.items():
            rows = sorted(r["curves"][policy], key=lambda x: x["expected_saving"])
            ax.plot([100 * x["expected_saving"] for x in rows], [100 * x["accuracy"] for x in rows],
                    marker=".", label=name)
        ax.set(xlabel="expected saving, eq. 2 (%)", title=f"{policy}")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("accuracy on GLUE dev (%)")
    fig.suptitle("Training regimes: accuracy vs expected saving")
    fig.tight_layout()
    fig.savefig(out_dir / "regimes_accuracy_vs_saving.png", dpi=100)
    names.append("regimes_accuracy_vs_saving.png")
    plt.close(fig)
    return names


# -------------------------------------------------------------------------------------------- markdown
def _pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}"


def _value(policy: str, v) -> str:
    return f"t = {int(v)}" if policy == exits.PATIENCE else f"S = {v:.4g}"


def _measured_at(java_rows: list[dict] | None, value) -> dict | None:
    for r in java_rows or []:
        if math.isclose(r["threshold"], float(value), rel_tol=1e-9, abs_tol=1e-12):
            return r
    return None


def table1(res: dict) -> list[str]:
    """Markdown lines of the Table 1 analogue: per run and policy, baseline and the dev-chosen settings."""
    lines = ["| model | policy | setting (chosen on dev) | dev budget | GLUE-dev accuracy | change (points) "
             "| expected saving (eq. 2) | measured runtime saving (Java) |",
             "|---|---|---|---|---|---|---|---|"]
    java = res.get("java")
    for name, r in res["runs"].items():
        lines.append(f"| {name} | (none: full model) | | | {_pct(r['test_full_accuracy'])} | | 0 | 0 |")
        for policy, rows in r["chosen_on_dev"].items():
            for row in rows:
                m = _measured_at(java["measured"].get(policy), row["value"]) if java and java["model"] == name else None
                lines.append(f"| {name} | {policy} | {_value(policy, row['value'])} | {row['budget_points']} pt "
                             f"| {_pct(row['test_accuracy'])} | {row['test_accuracy_delta_points']:+.1f} "
                             f"| {_pct(row['test_expected_saving'], 0)}% "
                             f"| {_pct(m['measured_saving'], 0) + '%' if m else 'not measured'} |")
    return lines


def oracle_rows(res: dict, name: str, policy: str, budgets=BUDGETS) -> list[str]:
    """Largest measured saving within each budget read off the GLUE-dev curve itself (as a paper's
    table is usually read): an optimistic number, reported beside the dev-chosen one."""
    java = res.get("java")
    if not java or java["model"] != name:
        return []
    full = res["runs"][name]["test_full_accuracy"]
    lines = []
    for b in budgets:
        ok = [r for r in java["measured"][policy] if (full - r["accuracy"]) * 100 <= b + 1e-9]
        best = max(ok, key=lambda r: r["measured_saving"])
        lines.append(f"| {name} | {policy} | {_value(policy, best['threshold'])} | {b} pt on GLUE dev itself "
                     f"| {_pct(best['accuracy'])} | {100 * (best['accuracy'] - full):+.1f} "
                     f"| {_pct(best['expected_saving'], 0)}% | {_pct(best['measured_saving'], 0)}% |")
    return lines


def markdown(res: dict, figure_names: list[str], command: str, fig_dir: str) -> str:
    """The report as markdown (numbers from ``res``; prose written for this data)."""
    runs = res["runs"]
    first = next(iter(runs))
    r0 = runs[first]
    n = r0["num_layers"]
    lines = [
        "# DeeBERT on SST-2: the paper's experiments on our backbone",
        "",
        f"Made by `{command}` (every number and figure below comes from that one run; see "
        "`results.json` beside the figures for the raw data).",
        "",
        "## Set-up, and what differs from the paper",
        "",
        f"- Backbone: all-MiniLM-L6-v2 ({n} layers, hidden 384, uncased WordPiece), the only pre-trained BERT "
        "these machines can fine-tune in reasonable time on 2 CPU cores; the paper used BERT-base "
        "(12 layers, hidden 768).",
        f"- Training data: a stratified fixed-seed subsample of {r0['train_examples']} of SST-2's training "
        "sentences (`../shared/data/sst2/train.tsv`, 60,614 rows; seed in the config below); the paper used "
        "all 67k. Thresholds are chosen on `validation.tsv` "
        f"({r0['num_dev']} held-out training sentences); every reported number is on the official GLUE "
        f"SST-2 dev set ({r0['num_test']} sentences). The paper's Table 1 is on the GLUE test server.",
        f"- Training: {', '.join(f'{k}: {v} s' for k, v in r0['train_seconds'].items())} on 2 shared CPU cores; "
        f"config `{json.dumps(r0['train_config'])}`.",
        "- Runtime: measured by the Java service's classifier (`ClassifierBenchmark`, DJL + TensorFlow 2.16, "
        "batch 1, 2 intra-op threads, round-robin repeats, median), tokenisation included, on the same "
        "exported SavedModel the service runs. The paper measured its PyTorch code on a GPU-less setup as well.",
        "",
        "## Paper beside ours",
        "",
        "| | paper (BERT-base, GLUE test) | ours (MiniLM-L6, GLUE dev) |",
        "|---|---|---|",
        f"| baseline accuracy | {PAPER['baseline_accuracy']} | {_pct(r0['test_full_accuracy'])} |",
    ]
    chosen = r0["chosen_on_dev"][exits.ENTROPY]
    java = res.get("java")
    for paper_row, row in zip(PAPER["rows"], chosen):
        m = _measured_at(java["measured"][exits.ENTROPY], row["value"]) if java else None
        ours = (f"{row['test_accuracy_delta_points']:+.1f} pt at "
                f"-{_pct(m['measured_saving'], 0) if m else _pct(row['test_expected_saving'], 0)}% "
                f"{'time (measured)' if m else 'layers (expected)'}, S = {row['value']:.4g} chosen on dev "
                f"within {row['budget_points']} pt")
        lines.append(f"| DeeBERT (entropy) | {paper_row['accuracy_delta_points']:+.1f} pt at "
                     f"-{paper_row['runtime_saving'] * 100:.0f}% time | {ours} |")
    lines += ["", "## Table 1 analogue", "",
              "Each setting is chosen on the dev split (the cheapest one whose dev accuracy is within the budget of "
              "the full model's, as `python -m deebert_export calibrate` does) and then evaluated once on GLUE dev. "
              "Patience t counts off-ramps (PABEE, Zhou et al. 2020).", ""]
    lines += table1(res)
    if java:
        lines += ["", "Read straight off the measured GLUE-dev curve instead (optimistic: the threshold is "
                  "picked on the set it is scored on):", "",
                  "| model | policy | setting | budget | GLUE-dev accuracy | change (points) | expected saving "
                  "| measured runtime saving |", "|---|---|---|---|---|---|---|---|"]
        for policy in exits.POLICIES:
            lines += oracle_rows(res, first, policy)
    lines += ["", "## Per-off-ramp accuracy (Fig. 4)", "",
              "| model | " + " | ".join(f"layer {i}" for i in range(1, n + 1)) + " |",
              "|---|" + "---|" * n]
    for name, r in runs.items():
        lines.append(f"| {name} | " + " | ".join(_pct(a) for a in r["test_per_layer_accuracy"]) + " |")
    lines += ["", f"![per-layer accuracy]({fig_dir}/fig4_per_layer_accuracy.png)", "",
              "## Exit histograms (Fig. 6)", "", f"![exit histograms]({fig_dir}/fig6_exit_histograms.png)", ""]
    if java:
        p = java["parity"]
        lines += ["## Accuracy against measured runtime (Fig. 2) and expected against measured saving (Fig. 3)", "",
                  f"![accuracy vs runtime]({fig_dir}/fig2_accuracy_vs_runtime.png)", "",
                  f"![expected vs measured]({fig_dir}/fig3_expected_vs_measured.png)", "",
                  "Measured saving: median over the round-robin rounds of each round's own ratio to the full "
                  "model's time (range over rounds in brackets); the spread is the shared machine's noise.", "",
                  "| policy | setting | GLUE-dev accuracy | exit histogram (layers 1..n) | expected saving "
                  "| measured saving | events/s |", "|---|---|---|---|---|---|---|"]
        for policy, rows in java["measured"].items():
            for r in sorted(rows, key=lambda x: x["threshold"]):
                lines.append(f"| {policy} | {_value(policy, r['threshold'])} | {_pct(r['accuracy'])} "
                             f"| {r['exit_histogram']} | {_pct(r['expected_saving'], 0)}% "
                             f"| {_pct(r['measured_saving'], 0)}% ({_pct(r['measured_saving_range'][0], 0)} to "
                             f"{_pct(r['measured_saving_range'][1], 0)}) | {r['events_per_s']:.0f} |")
        lines += ["", f"Java against Python on the same settings: {p['histograms_equal']} of {p['settings']} exit "
                  f"histograms identical; largest difference {p['max_exit_count_difference']} inputs in one layer, "
                  f"largest accuracy difference {100 * p['max_accuracy_difference']:.2f} points.", ""]
    lines += ["## Training regimes: two-stage, joint, bypass (BADGE interpretation)", "",
              f"![regimes]({fig_dir}/regimes_accuracy_vs_saving.png)", ""]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ CLI
def main(argv: list[str] | None = None) -> int:
    """``python tools/sst2_report.py {plan,write} ...``; see the module docstring."""
    p = argparse.ArgumentParser(prog="python tools/sst2_report.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="step", required=True)
    pp = sub.add_parser("plan", help="print the settings the Java benchmark measures, one POLICY<TAB>values line each")
    pp.add_argument("--run", required=True, help="NAME=WORK_DIR of the model the Java benchmark runs")
    pw = sub.add_parser("write", help="write figures, results.json and the markdown report")
    pw.add_argument("--run", action="append", required=True, help="NAME=WORK_DIR (repeat; first = DeeBERT two-stage)")
    pw.add_argument("--java", action="append", default=[], help="POLICY=FILE of the Java benchmark (batch 1)")
    pw.add_argument("--out", type=Path, required=True, help="markdown file to write")
    pw.add_argument("--fig-dir", type=Path, required=True, help="directory for PNGs and results.json")
    pw.add_argument("--command", default="bash model-export/scripts/sst2-report.sh")
    pw.add_argument("--append", type=Path, help="markdown written by hand, appended to the report (discussion)")
    args = p.parse_args(argv)
    if args.step == "plan":
        for policy, values in plan(parse_runs([args.run])[0]).items():
            print(f"{policy.upper()}\t" + ",".join(repr(float(v)) for v in values))
        return 0
    runs = parse_runs(args.run)
    java = load_java({k: Path(v) for k, _, v in (s.partition("=") for s in args.java)}) if args.java else None
    res = results(runs, java)
    args.fig_dir.mkdir(parents=True, exist_ok=True)
    (args.fig_dir / "results.json").write_text(json.dumps(res, indent=1) + "\n")
    names = figures(res, args.fig_dir)
    import os
    rel = os.path.relpath(args.fig_dir, args.out.parent)
    text = markdown(res, names, args.command, rel)
    if args.append and args.append.is_file():
        text += "\n" + args.append.read_text()
    args.out.write_text(text)
    print(f"wrote {args.out} and {len(names)} figures in {args.fig_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
