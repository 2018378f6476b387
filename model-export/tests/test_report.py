"""The SST-2 report's maths and files (tools/sst2_report.py), on small hand-made work directories.

The real report is made from real SST-2 runs by scripts/sst2-report.sh (too slow for tests); these
tests check what it computes from a run's files: dev-chosen settings scored on test, measured savings
from Java benchmark files, Java-Python parity counts and the written report."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deebert_export import exits
from deebert_export import selection as sel
from deebert_export.data import Example, write_jsonl

import sst2_report as report  # tools/sst2_report.py: tests/conftest.py puts tools/ on sys.path

N_LAYERS = 3


def _logits(rows):
    """rows: per input, per layer, (p_label_1) -> logits (N, n, 2) with that softmax probability."""
    p = np.clip(np.asarray(rows, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.stack([np.zeros_like(p), np.log(p / (1 - p))], axis=-1).astype(np.float32)


def _work_dir(tmp_path: Path, name: str, dev_rows, dev_y, test_rows, test_y) -> Path:
    wd = tmp_path / name
    for split, rows, y in (("dev", dev_rows, dev_y), ("test", test_rows, test_y)):
        write_jsonl(wd / "data" / f"{split}.jsonl", [Example(f"{split}:{i}", f"text {i}", str(v)) for i, v in enumerate(y)])
        (wd / "eval").mkdir(parents=True, exist_ok=True)
        np.save(wd / "eval" / f"{split}_all_logits.npy", _logits(rows))
    (wd / "train").mkdir(parents=True, exist_ok=True)
    (wd / "train" / "train_config.json").write_text(json.dumps({
        "labels": ["0", "1"], "num_train_examples": 10, "train_config": {"seed": 13},
        "stage1": {"seconds": 1.0}, "stage2": {"seconds": 0.5}, "command": "python -m deebert_export run"}))
    return wd


# Inputs 0-1: confident and right at layer 1. Input 2: confident and WRONG at layer 1, right later.
# Input 3: unsure until layer 3, right there.
ROWS = [[0.99, 0.99, 0.99], [0.01, 0.01, 0.01], [0.01, 0.9, 0.99], [0.6, 0.6, 0.05]]
Y = [1, 0, 1, 0]


@pytest.fixture
def run(tmp_path):
    return report.Run.load("two-stage", _work_dir(tmp_path, "r", ROWS, Y, ROWS, Y))


def test_chosen_settings_respect_the_dev_budget_and_are_scored_on_test(run):
    chosen = report.chosen_settings(run, budgets=(0.0, 30.0))
    strict, loose = chosen[exits.ENTROPY]
    # 0 points: input 2 must not exit at layer 1, so S stays at or below its layer-1 entropy.
    assert strict["test_accuracy"] == 1.0 and strict["test_accuracy_delta_points"] == 0.0
    # 30 points allow losing input 2 (25 points): more saving than the strict setting.
    assert loose["test_accuracy"] == 0.75
    assert loose["test_expected_saving"] > strict["test_expected_saving"]
    assert loose["test_accuracy_delta_points"] == pytest.approx(-25.0)


def test_plan_holds_each_policys_full_model_setting_and_the_chosen_ones(run):
    plan = report.plan(run)
    assert 0.0 in plan[exits.ENTROPY] and 0.0 in plan[exits.DIVERGENCE]
    assert float(N_LAYERS) in plan[exits.PATIENCE]
    for policy, rows in report.chosen_settings(run).items():
        assert {float(r["value"]) for r in rows} <= set(plan[policy])


def _java_file(tmp_path, policy, rows):
    f = tmp_path / f"java_{policy}.json"
    f.write_text(json.dumps({"num_layers": N_LAYERS, "results": [
        {"batch": 1, "threshold": t, "seconds": sec, "events_per_s": 4 / sec, "accuracy": acc,
         "exit_histogram": h, "expected_saving": exits.expected_saving(
             np.repeat(np.arange(1, N_LAYERS + 1), h), N_LAYERS)} for t, sec, acc, h in rows]}))
    return f


def test_measured_saving_is_a_ratio_to_the_same_files_full_model_run(tmp_path, run):
    ent = _java_file(tmp_path, "entropy", [(0.0, 2.0, 1.0, [0, 0, 4]), (0.7, 0.5, 0.75, [4, 0, 0])])
    pat = _java_file(tmp_path, "patience", [(3.0, 4.0, 1.0, [0, 0, 4]), (1.0, 3.0, 1.0, [0, 2, 2])])
    java = report.load_java({"entropy": ent, "patience": pat})
    assert [r["measured_saving"] for r in java["entropy"]] == [0.0, 0.75]
    assert [r["measured_saving"] for r in java["patience"]] == [0.0, 0.25]


def test_measured_saving_pairs_each_round_with_the_same_rounds_full_model_run(tmp_path):
    # Round 2 ran on a slow machine for every setting alike: per-round ratios agree (0.5 each round).
    f = tmp_path / "java_entropy.json"
    f.write_text(json.dumps({"num_layers": N_LAYERS, "results": [
        {"batch": 1, "threshold": 0.0, "seconds": 2.0, "events_per_s": 2.0, "events_per_s_runs": [4.0, 1.0, 2.0],
         "accuracy": 1.0, "exit_histogram": [0, 0, 4], "expected_saving": 0.0},
        {"batch": 1, "threshold": 0.5, "seconds": 1.0, "events_per_s": 4.0, "events_per_s_runs": [8.0, 2.0, 4.0],
         "accuracy": 1.0, "exit_histogram": [2, 0, 2], "expected_saving": 1 / 3}]}))
    row = report.load_java({"entropy": f})["entropy"][1]
    assert row["measured_saving"] == 0.5 and row["measured_saving_range"] == [0.5, 0.5]


def test_a_java_file_without_its_full_model_run_is_refused(tmp_path):
    f = _java_file(tmp_path, "entropy", [(0.7, 0.5, 0.75, [4, 0, 0])])
    with pytest.raises(ValueError, match="full-model reference"):
        report.load_java({"entropy": f})


def test_java_parity_counts_histograms_that_differ_from_python(tmp_path, run):
    py = {s: r for s, r in ((s, sel.sweep(run.test_logits, run.test_labels, [s], "entropy")[0])
                            for s in (0.0, 0.7))}
    same = _java_file(tmp_path, "entropy", [(0.0, 2.0, py[0.0]["accuracy"], py[0.0]["exit_histogram"]),
                                            (0.7, 1.0, py[0.7]["accuracy"], py[0.7]["exit_histogram"])])
    parity = report.java_parity(run, report.load_java({"entropy": same}))
    assert parity == {"settings": 2, "histograms_equal": 2, "max_exit_count_difference": 0,
                      "max_accuracy_difference": 0.0}
    off = list(py[0.7]["exit_histogram"])
    off[0] -= 1
    off[1] += 1
    differ = _java_file(tmp_path, "entropy", [(0.0, 2.0, py[0.0]["accuracy"], py[0.0]["exit_histogram"]),
                                              (0.7, 1.0, py[0.7]["accuracy"], off)])
    parity = report.java_parity(run, report.load_java({"entropy": differ}))
    assert parity["histograms_equal"] == 1 and parity["max_exit_count_difference"] == 1


def test_write_makes_the_report_figures_and_results(tmp_path):
    a = _work_dir(tmp_path, "a", ROWS, Y, ROWS, Y)
    b = _work_dir(tmp_path, "b", ROWS, Y, ROWS, Y)
    java = {}
    run = report.Run.load("two-stage", a)
    for policy, values in report.plan(run).items():
        rows = []
        for v in values:
            py = sel.sweep(run.test_logits, run.test_labels, [v], policy)[0]
            rows.append((v, 1.0 + py["exit_histogram"][-1], py["accuracy"], py["exit_histogram"]))
        java[policy] = _java_file(tmp_path, policy, rows)
    out = tmp_path / "docs" / "report.md"
    extra = tmp_path / "discussion.md"
    extra.write_text("## Discussion\n\nhand-written\n")
    assert report.main(["write", "--run", f"two-stage={a}", "--run", f"bypass={b}", "--out", str(out),
                        "--fig-dir", str(tmp_path / "docs" / "sst2"), "--append", str(extra),
                        *[x for p, f in java.items() for x in ("--java", f"{p}={f}")]]) == 0
    text = out.read_text()
    assert "Table 1 analogue" in text and "hand-written" in text and "](sst2/fig2_accuracy_vs_runtime.png)" in text
    for png in ("fig2_accuracy_vs_runtime", "fig3_expected_vs_measured", "fig4_per_layer_accuracy",
                "fig6_exit_histograms", "regimes_accuracy_vs_saving"):
        assert (tmp_path / "docs" / "sst2" / f"{png}.png").stat().st_size > 1000
    res = json.loads((tmp_path / "docs" / "sst2" / "results.json").read_text())
    assert res["java"]["parity"]["histograms_equal"] == res["java"]["parity"]["settings"]
    assert set(res["runs"]) == {"two-stage", "bypass"}
