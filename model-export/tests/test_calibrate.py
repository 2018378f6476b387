"""``calibrate`` on the tiny random-init model that test_pipeline.py trains on the committed SST-2 sample
(its ``first_run`` fixture, reused): the chosen setting is within budget on dev and no admissible
setting saves more (brute force over a denser set than the search uses); only the ``calibrated`` key
changes (and ``recommended_threshold`` when asked); a committed card is refused."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from deebert_export import calibrate as cal
from deebert_export import cli, exits
from deebert_export import evaluate as ev
from deebert_export.card import portable_path
from deebert_export.cli import main

from test_pipeline import first_run  # noqa: F401  (the module fixture: one tiny training run)


@pytest.fixture
def model_dir(first_run, tmp_path):  # noqa: F811
    """A fresh copy of the exported tiny model per test, so card edits do not leak between tests."""
    return shutil.copytree(first_run["work"] / "model", tmp_path / "model")


def _card(model_dir) -> dict:
    return json.loads((model_dir / "model_card.json").read_text())


def _brute_force(logits, y, policy, budget_points):
    """Best admissible saving over every observed score at every layer, the midpoints between them,
    the sweep grid and a value above ln C (score policies), or t = 1..n (patience), through
    evaluate.sweep (exits.exit_layers), not the search's own code."""
    n = logits.shape[1]
    full = float((logits[:, -1].argmax(-1) == y).mean())
    if policy == exits.PATIENCE:
        grid = list(range(1, n + 1))
    else:
        s = exits.exit_scores(logits, policy)
        obs = np.unique(s[np.isfinite(s)])
        grid = sorted({0.0, *obs, *((obs[1:] + obs[:-1]) / 2), *exits.setting_grid(logits.shape[2], n, policy), 10.0})
    rows = ev.sweep(logits, y, grid, policy)
    ok = [r for r in rows if (full - r["accuracy"]) * 100 <= budget_points + 1e-9]
    return full, max(r["expected_saving"] for r in ok)


@pytest.mark.parametrize("budget", [0.5, 5.0])
def test_chosen_setting_is_within_budget_on_dev_and_the_cheapest(model_dir, sst2_sample_dir, budget, capsys):
    dev = sst2_sample_dir / "dev.tsv"   # 100 rows: more to choose from than the 20-row capped split
    assert main(["calibrate", "--model-dir", str(model_dir), "--max-accuracy-loss", str(budget),
                 "--dev-file", str(dev)]) == 0
    calibrated = _card(model_dir)["calibrated"]
    assert sorted(calibrated) == sorted(exits.POLICIES)

    card = _card(model_dir)
    examples = cal.read_dev_file(dev, card["labels"])
    logits, y = cal.dev_logits(model_dir, examples, card["labels"])
    for policy, c in calibrated.items():
        full, best_saving = _brute_force(logits, y, policy, budget)
        row = ev.sweep(logits, y, [c["value"]], policy)[0]   # re-evaluate the recorded setting
        assert c["full_dev_accuracy"] == pytest.approx(full)
        assert row["accuracy"] == pytest.approx(c["dev_accuracy"])
        assert (full - row["accuracy"]) * 100 <= budget + 1e-9, policy
        assert row["expected_saving"] == pytest.approx(c["dev_expected_saving"])
        assert c["dev_expected_saving"] == pytest.approx(best_saving), policy
        assert c["dev_size"] == 100 and c["max_accuracy_loss_points"] == budget and c["chosen_on"] == "dev"
        # stored without the machine's absolute location (card.portable_path)
        assert c["dev_file"] == portable_path(str(dev)) == "tests/data/sst2-sample/dev.tsv"
        assert c["date"] and "calibrate" in c["command"]
        if policy == exits.PATIENCE:
            assert isinstance(c["value"], int) and 1 <= c["value"] <= card["num_layers"]


def test_only_the_calibrated_key_changes_and_the_work_dirs_dev_split_is_the_default(model_dir, first_run):  # noqa: F811
    before = _card(model_dir)
    assert main(["calibrate", "--model-dir", str(model_dir), "--max-accuracy-loss", "0.5", "--policy", "patience"]) == 0
    after = _card(model_dir)
    assert {k: v for k, v in after.items() if k != "calibrated"} == before
    assert list(after)[:-1] == list(before)   # same key order; the new key is appended
    entry = after["calibrated"]["patience"]
    # export_config.json names the work dir's data/: its capped 20-row dev split is used
    assert entry["dev_file"] == portable_path(str(first_run["work"] / "data" / "dev.jsonl")) and entry["dev_size"] == 20
    assert not list(model_dir.glob("*.tmp"))   # the atomic write left no temporary file

    # A second policy is added beside the first; --set-recommended changes recommended_threshold too.
    assert main(["calibrate", "--model-dir", str(model_dir), "--max-accuracy-loss", "0.5", "--policy", "entropy",
                 "--set-recommended", "patience"]) == 0
    final = _card(model_dir)
    assert final["calibrated"]["patience"] == entry and "entropy" in final["calibrated"]
    assert final["recommended_threshold"]["policy"] == "patience"
    assert final["recommended_threshold"]["value"] == entry["value"]
    untouched = lambda card: {k: v for k, v in card.items() if k not in ("calibrated", "recommended_threshold")}
    assert untouched(final) == untouched(before) and before["recommended_threshold"]["policy"] == "entropy"


def test_set_recommended_needs_that_policy_calibrated(model_dir, capsys):
    before = (model_dir / "model_card.json").read_bytes()
    assert main(["calibrate", "--model-dir", str(model_dir), "--max-accuracy-loss", "0.5", "--policy", "entropy",
                 "--set-recommended", "divergence"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--set-recommended divergence" in err[0]
    assert (model_dir / "model_card.json").read_bytes() == before


def test_a_committed_card_is_refused_without_overwrite_committed(capsys):
    card = cli.COMMITTED_MODEL_DIR / "model_card.json"
    before = card.stat().st_mtime_ns
    assert main(["calibrate", "--model-dir", str(cli.COMMITTED_MODEL_DIR), "--max-accuracy-loss", "0.5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "--overwrite-committed" in err[0], err
    assert card.stat().st_mtime_ns == before


def test_search_on_hand_made_logits():
    # 4 inputs, 2 layers, 2 labels. Layer 1 is confident and right on inputs 0-1, unsure and wrong on
    # 2-3; layer 2 is right on all. Budget 0: only inputs 0-1 may leave at layer 1.
    right, wrong_unsure = [4.0, -4.0], [0.1, 0.0]
    logits = np.array([[right, right], [right, right], [wrong_unsure, [-4.0, 4.0]], [wrong_unsure, [-4.0, 4.0]]])
    y = np.array([0, 0, 1, 1])
    c = cal.calibrate_policy(logits, y, exits.ENTROPY, 0.0)
    assert c["dev_accuracy"] == 1.0 and c["exit_histogram"] == [2, 2] and c["dev_expected_saving"] == 0.25
    # 50 points of budget: everyone may leave at layer 1 (S just above the largest layer-1 entropy).
    c = cal.calibrate_policy(logits, y, exits.ENTROPY, 50.0)
    assert c["exit_histogram"] == [4, 0] and c["dev_accuracy"] == 0.5
    with pytest.raises(ValueError, match="percentage points"):
        cal.calibrate_policy(logits, y, exits.ENTROPY, -1.0)
