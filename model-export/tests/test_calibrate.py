"""``calibrate`` on the tiny random-init model that test_pipeline.py trains on the committed SST-2 sample
(its ``first_run`` fixture, reused): the chosen setting is within budget on dev and no admissible
setting saves more (brute force over a denser set than the search uses); only the ``calibrated`` key
changes (and ``recommended_threshold`` when asked); a committed card is refused.

``calibrate --max-recall-loss``, mostly on synthetic logits: the chosen setting keeps the protected
label's recall and every other label's recall within their bounds on the data it was chosen on (checked
with ``sklearn.metrics``), no admissible setting saves more (brute force through ``exits.exit_layers``),
the per-label rule wins on a case built for it, ties, and one-line usage errors."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sklearn.metrics import recall_score

from conftest import COMMITTED_MODEL_DIR
from deebert_export import calibrate as cal
from deebert_export import exits
from deebert_export import selection as sel
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
    rows = sel.sweep(logits, y, grid, policy)
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
        row = sel.sweep(logits, y, [c["value"]], policy)[0]   # re-evaluate the recorded setting
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
    card = COMMITTED_MODEL_DIR / "model_card.json"
    before = card.stat().st_mtime_ns
    assert main(["calibrate", "--model-dir", str(COMMITTED_MODEL_DIR), "--max-accuracy-loss", "0.5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "--overwrite-committed" in err[0], err
    assert card.stat().st_mtime_ns == before


def test_search_on_hand_made_logits():
    # 4 inputs, 2 layers, 2 labels. Layer 1 is confident and right on inputs 0-1, unsure and wrong on
    # 2-3; layer 2 is right on all. Budget 0: only inputs 0-1 may leave at layer 1.
    right, wrong_unsure = [4.0, -4.0], [0.1, 0.0]
    logits = np.array([[right, right], [right, right], [wrong_unsure, [-4.0, 4.0]], [wrong_unsure, [-4.0, 4.0]]])
    y = np.array([0, 0, 1, 1])
    c = sel.calibrate_policy(logits, y, exits.ENTROPY, 0.0)
    assert c["dev_accuracy"] == 1.0 and c["exit_histogram"] == [2, 2] and c["dev_expected_saving"] == 0.25
    # 50 points of budget: everyone may leave at layer 1 (S just above the largest layer-1 entropy).
    c = sel.calibrate_policy(logits, y, exits.ENTROPY, 50.0)
    assert c["exit_histogram"] == [4, 0] and c["dev_accuracy"] == 0.5
    with pytest.raises(ValueError, match="percentage points"):
        sel.calibrate_policy(logits, y, exits.ENTROPY, -1.0)


# --------------------------------------------------------------------------------------------------
# --max-recall-loss: the protected-label search
# --------------------------------------------------------------------------------------------------

def _random_logits(seed, n_inputs, n_layers, n_labels):
    """Off-ramp logits that get better with depth (as a trained model's do) and gold labels."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, n_labels, n_inputs)
    onehot = np.eye(n_labels)[gold]
    depth = np.linspace(0.3, 3.0, n_layers)[None, :, None]
    return onehot[:, None, :] * depth + rng.normal(0, 1.0, (n_inputs, n_layers, n_labels)), gold


def _recalls(logits, gold, setting, n_labels, sklearn=True):
    """Per-label recall (fractions) and expected saving of one setting, through exits.exit_layers and
    sklearn (or plain counting, for the brute force's thousands of settings)."""
    layer = exits.exit_layers(logits, setting)
    answer = logits[np.arange(len(gold)), layer - 1].argmax(-1)
    if sklearn:
        recall = recall_score(gold, answer, labels=list(range(n_labels)), average=None, zero_division=0)
    else:
        recall = np.array([(answer[gold == c] == c).mean() for c in range(n_labels)])
    return recall, exits.expected_saving(layer, logits.shape[1])


def _admissible(recall, full, protected, budget, false_alarm):
    drop = (full - recall) * 100
    return all(d <= (budget if c == protected else false_alarm) + 1e-9 for c, d in enumerate(drop))


@pytest.mark.parametrize("seed,n_labels,budget,false_alarm", [(1, 2, 0.0, 1.0), (2, 2, 5.0, 2.0), (3, 3, 3.0, 4.0),
                                                              (4, 3, 10.0, 0.0)])
def test_protected_choice_is_within_both_bounds_and_no_admissible_setting_saves_more(seed, n_labels, budget,
                                                                                       false_alarm):
    logits, gold = _random_logits(seed, 24, 3, n_labels)
    labels = [f"l{c}" for c in range(n_labels)]
    protected = n_labels - 1
    r = sel.calibrate_protected(logits, gold, labels, labels[protected], budget, false_alarm)
    full, _ = _recalls(logits, gold, exits.ExitSetting("entropy", 0.0), n_labels)
    best = {}
    for rule, entry in r["rules"].items():
        recall, saving = _recalls(logits, gold, sel.setting_of(entry, labels), n_labels)
        assert _admissible(recall, full, protected, budget, false_alarm), rule
        assert saving == pytest.approx(entry["expected_saving"]) and entry["protected_recall"] == recall[protected]
        best[rule] = saving
    # Brute force, independent of the search's vectorised counting: every pair of S values, each from 0, the
    # observed scores of that side (S = a score lets out the scores below it) and 10, through exits.exit_layers.
    predicted = exits.predicted_labels(logits)
    for policy in exits.SCORE_POLICIES:
        scores = exits.exit_scores(logits, policy)[:, :-1]
        side = predicted[:, :-1] == protected
        grid = lambda s: sorted({0.0, *s, 10.0})
        top_single, top_pair = 0.0, 0.0
        for s in grid(scores[np.isfinite(scores)]):
            recall, saving = _recalls(logits, gold, exits.ExitSetting(policy, s), n_labels, sklearn=False)
            if _admissible(recall, full, protected, budget, false_alarm):
                top_single = max(top_single, saving)
        for sp in grid(scores[side & np.isfinite(scores)]):
            for so in grid(scores[~side & np.isfinite(scores)]):
                lt = tuple(sp if c == protected else so for c in range(n_labels))
                recall, saving = _recalls(logits, gold, exits.ExitSetting(policy, so, label_thresholds=lt), n_labels,
                                          sklearn=False)
                if _admissible(recall, full, protected, budget, false_alarm):
                    top_pair = max(top_pair, saving)
        assert best[policy] == pytest.approx(top_single), policy
        assert best[policy + "-per-label"] == pytest.approx(top_pair), policy
        assert top_pair >= top_single - 1e-12   # per-label thresholds can copy any single S
    assert r["chosen"]["expected_saving"] == pytest.approx(max(best.values()))
    # The reported figures are sklearn's (evaluate.class_metrics), per class
    assert set(r["chosen"]["classes"]["per_class"]) == set(labels)


def test_pair_counts_equal_direct_counting():
    logits, gold = _random_logits(7, 50, 4, 3)
    predicted = exits.predicted_labels(logits)
    scores = exits.exit_scores(logits, "entropy")
    side = predicted == 2
    a, b = np.where(side, scores, np.inf), np.where(side, np.inf, scores)
    ea = sel.first_exit_index(a, sel.score_axis(a[:, :-1]))
    eb = sel.first_exit_index(b, sel.score_axis(b[:, :-1]))
    fast = sel.pair_counts(ea, eb, predicted, gold, 3, 2)
    direct = sel.exit_counts(np.minimum(ea[:, None, :], eb[None, :, :]), predicted, gold, 3, 2)
    for key in ("correct", "false_alarms", "layers"):
        np.testing.assert_array_equal(fast[key], direct[key])


# A case built for the per-label rule: ham = 0, spam = 1 (protected), 2 layers, the last always right.
# Entropies at layer 1: 0.090 (ham said ham), 0.408 (spam said ham: wrong), 0.474 (spam said spam), 0.664
# (ham said spam: a false alarm). One S that lets the spam out at layer 1 (S > 0.474) also lets the wrong
# "ham" answers out, so a single S can only save the confident ham; a strict ham S with a looser spam S saves
# the spam too, and the false-alarm bound decides whether the 0.664 ham may leave as spam.
_RIGHT_HAM, _RIGHT_SPAM = [6.0, -6.0], [-6.0, 6.0]
_GROUPS = {"ham sure": (0, [4.0, 0.0], _RIGHT_HAM, 20), "spam said ham": (1, [1.8, 0.0], _RIGHT_SPAM, 10),
           "spam said spam": (1, [0.0, 1.5], _RIGHT_SPAM, 10), "ham said spam": (0, [0.0, 0.5], _RIGHT_HAM, 4)}


def _built_case():
    logits = np.array([[first, last] for _, first, last, k in _GROUPS.values() for _ in range(k)])
    gold = np.array([g for g, _, _, k in _GROUPS.values() for _ in range(k)])
    return logits, gold


def test_the_per_label_rule_wins_where_one_s_cannot_separate_the_labels():
    logits, gold = _built_case()
    h = exits.entropy(logits[[0, 20, 30, 40], 0])
    assert h[0] < h[1] < h[2] < h[3]     # 0.090 < 0.408 < 0.474 < 0.664, as the comment above says
    r = sel.calibrate_protected(logits, gold, ["ham", "spam"], "spam", 0.0, 0.0)
    c = r["chosen"]
    assert c["rule"] == "entropy-per-label" and c["policy"] == "entropy"
    assert h[0] < c["label_thresholds"]["ham"] <= h[1] and h[2] < c["label_thresholds"]["spam"] <= h[3]
    assert c["value"] == c["label_thresholds"]["ham"]       # value = the other labels' S
    assert c["exit_histogram"] == [30, 14] and c["protected_recall"] == 1.0 and c["false_alarms"] == 0
    single = r["rules"]["entropy"]
    assert single["exit_histogram"] == [20, 24] and single["expected_saving"] < c["expected_saving"]
    assert r["rules"]["divergence"]["expected_saving"] == 0.0    # 2 layers: divergence never exits early
    # A looser false-alarm bound lets the uncertain ham out as spam too: 4 of 24 ham = 16.7 points.
    loose = sel.calibrate_protected(logits, gold, ["ham", "spam"], "spam", 0.0, 17.0)["chosen"]
    assert loose["label_thresholds"]["spam"] > h[3] and loose["false_alarms"] == 4
    assert loose["exit_histogram"] == [34, 10] and loose["recall"]["ham"] == pytest.approx(20 / 24)
    # The accuracy bound, when given, holds too: 4 wrong of 44 inputs = 9.1 points of accuracy.
    assert sel.calibrate_protected(logits, gold, ["ham", "spam"], "spam", 0.0, 17.0,
                                   max_accuracy_loss_pt=9.0)["chosen"]["false_alarms"] == 0


def test_ties_go_to_saving_then_protected_recall_then_fewer_false_alarms_then_caution():
    # Four candidates with hand-made counts (C = 2, protected = 1): a and b save most; b catches more of
    # the protected label; among equal ones the fewer false alarms, then the more cautious, win.
    counts = {"layers": np.array([10, 10, 10, 10, 12]), "correct": np.array([[5, 3], [5, 4], [5, 4], [5, 4], [9, 9]]),
              "false_alarms": np.array([0, 2, 1, 1, 0])}
    ok = np.ones(5, bool)
    caution = [np.array([0.0, 0.0, -0.3, -0.2, 0.0])]    # higher = more cautious (= -S)
    assert sel._best(counts, ok, 1, caution) == 3         # fewest layers, more protected caught, 1 alarm, S 0.2 < 0.3
    ok[3] = False
    assert sel._best(counts, ok, 1, caution) == 2
    assert sel._best(counts, np.zeros(5, bool), 1, caution) is None

    # A full tie across rules goes to the simpler one, and within a rule to the smaller S: every input is sure
    # and right at layer 1, so any S above its entropy, single or per label, saves the same.
    logits = np.array([[_RIGHT_HAM, _RIGHT_HAM], [_RIGHT_SPAM, _RIGHT_SPAM]] * 5)
    gold = np.array([0, 1] * 5)
    r = sel.calibrate_protected(logits, gold, ["ham", "spam"], "spam", 0.0, 0.0)
    assert r["chosen"]["rule"] == "entropy" and r["rules"]["entropy-per-label"]["expected_saving"] == 0.5
    assert r["chosen"]["value"] < 1e-4                    # just above the (tiny) observed entropy, not ln 2
    # Input with a lower score at layer 1 than at layer 2 (3 layers): letting layer 2's score out changes
    # nothing, so the smaller S wins.
    three = np.array([[[3.0, -3.0], [1.0, 0.0], [6.0, -6.0]]] * 2)
    r = sel.calibrate_protected(three, np.array([0, 0]), ["ham", "spam"], "ham", 0.0, 0.0)
    h1, h2 = exits.entropy(three[0, :2])
    assert r["rules"]["entropy"]["exit_histogram"] == [2, 0, 0] and h1 < r["rules"]["entropy"]["value"] < h2


def test_protected_search_refuses_bad_bounds_and_labels():
    logits, gold = _built_case()
    for kwargs, match in [({"max_recall_loss_pt": -1.0}, "max recall loss"),
                          ({"max_recall_loss_pt": 0.0, "max_false_alarm_increase_pt": float("nan")}, "false alarm"),
                          ({"max_recall_loss_pt": 0.0, "max_accuracy_loss_pt": float("inf")}, "accuracy"),
                          ({"max_recall_loss_pt": 0.0, "protected_label": "eggs"}, "not a label"),
                          ({"max_recall_loss_pt": 0.0, "rules": ("entropy", "magic")}, "rules")]:
        args = {"protected_label": "spam", **kwargs}
        with pytest.raises(ValueError, match=match):
            sel.calibrate_protected(logits, gold, ["ham", "spam"], **args)
    with pytest.raises(ValueError, match="no dev input has the protected label"):
        sel.calibrate_protected(logits[gold == 0], gold[gold == 0], ["ham", "spam"], "spam", 0.0)


@pytest.fixture
def bare_card(tmp_path):
    """A directory with only a model card (the options are checked before anything else is read) and a
    dev file without spam."""
    d = tmp_path / "m"
    d.mkdir()
    (d / "model_card.json").write_text(json.dumps({"labels": ["ham", "spam"], "protected_label": "spam",
                                                   "num_layers": 2}))
    (tmp_path / "dev.jsonl").write_text(json.dumps({"id": "1", "text": "hello", "label": "ham"}) + "\n")
    return d


@pytest.mark.parametrize("args,expected", [
    ([], "--max-accuracy-loss POINTS, --max-recall-loss LABEL:POINTS"),
    (["--max-recall-loss", "spam"], "LABEL:POINTS"),
    (["--max-recall-loss", "spam:lots"], "LABEL:POINTS"),
    (["--max-recall-loss", ":0.4"], "LABEL:POINTS"),
    (["--max-recall-loss", "spam:-1"], "--max-recall-loss -1.0"),
    (["--max-recall-loss", "spam:nan"], "--max-recall-loss nan"),
    (["--max-recall-loss", "eggs:0.4"], "not a label of this task"),
    (["--max-recall-loss", "ham:0.4"], "the card's protected_label is 'spam'"),
    (["--max-recall-loss", "ham:0.4", "--protect-label", "spam"], "name different labels"),
    (["--max-recall-loss", "spam:0.4", "--max-false-alarm-increase", "-2"], "--max-false-alarm-increase -2.0"),
    (["--max-recall-loss", "spam:0.4", "--max-false-alarm-increase", "inf"], "--max-false-alarm-increase inf"),
    (["--max-recall-loss", "spam:0.4", "--max-accuracy-loss", "-1"], "--max-accuracy-loss -1.0"),
    (["--max-recall-loss", "spam:0.4", "--set-recommended", "entropy"], "--set-recommended protected"),
    (["--max-accuracy-loss", "0.5", "--max-false-alarm-increase", "1"], "give --max-recall-loss"),
    (["--max-accuracy-loss", "0.5", "--set-recommended", "protected"], "needs --max-recall-loss"),
    (["--max-recall-loss", "spam:0.4", "--dev-file", "DEV"], "no dev example has the label 'spam'"),
])
def test_bad_protected_options_are_one_line_usage_errors(bare_card, args, expected, capsys):
    before = (bare_card / "model_card.json").read_bytes()
    args = [str(bare_card.parent / "dev.jsonl") if x == "DEV" else x for x in args]
    assert main(["calibrate", "--model-dir", str(bare_card), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0], err
    assert (bare_card / "model_card.json").read_bytes() == before


def test_protected_calibration_end_to_end_on_the_tiny_model(model_dir, first_run, capsys):  # noqa: F811
    """Through the CLI, on the work dir's dev split: the card gains protected_calibration and the recommended
    setting in the format the service reads; the bounds hold on dev; reevaluate then recomputes the same
    figures for the (possibly per-label) recommended setting."""
    dev = first_run["work"] / "data" / "dev.jsonl"
    before = _card(model_dir)
    assert main(["calibrate", "--model-dir", str(model_dir), "--max-recall-loss", "1:2",
                 "--max-false-alarm-increase", "3", "--set-recommended", "protected"]) == 0
    out = capsys.readouterr().out
    assert "best entropy-per-label" in out and "old recommended" in out and out.count("full model") >= 2
    card = _card(model_dir)
    changed = {"protected_calibration", "protected_label", "recommended_threshold"}
    assert {k: v for k, v in card.items() if k not in changed} == {k: v for k, v in before.items() if k not in changed}
    entry, rec, labels = card["protected_calibration"], card["recommended_threshold"], card["labels"]
    assert card["protected_label"] == "1" and entry["label"] == "1" and entry["chosen_on"] == "dev"
    assert entry["max_recall_loss_points"] == 2.0 and entry["max_false_alarm_increase_points"] == 3.0
    assert entry["max_accuracy_loss_points"] is None and entry["dev_size"] == 20 and "--max-recall-loss" in entry["command"]
    assert set(entry["rules"]) == set(sel.RULES) and set(entry["test"]["rules"]) == set(sel.RULES)
    assert entry["old_recommended"]["rule"] == before["recommended_threshold"]["policy"]

    examples = cal.read_dev_file(dev, labels)
    logits, y = cal.dev_logits(model_dir, examples, labels)
    setting = sel.setting_of(rec, labels)
    recall, saving = _recalls(logits, y, setting, 2)
    full, _ = _recalls(logits, y, exits.ExitSetting("entropy", 0.0), 2)
    assert (full[1] - recall[1]) * 100 <= 2.0 + 1e-9 and (full[0] - recall[0]) * 100 <= 3.0 + 1e-9
    assert saving == pytest.approx(rec["dev_expected_saving"]) == pytest.approx(entry["chosen"]["expected_saving"])
    assert rec["policy"] == entry["chosen"]["policy"] and rec["value"] == entry["chosen"]["value"]
    assert rec["chosen_on"] == "dev" and rec["date"] == entry["date"] and "1 recall" in rec["rule"]
    if entry["chosen"]["rule"].endswith("-per-label"):
        assert set(rec["label_thresholds"]) == set(labels) and rec["label_thresholds"]["0"] == rec["value"]
    else:
        assert "label_thresholds" not in rec
    test = cal.test_logits(model_dir)
    assert rec["test"] == sel.setting_row(*test, setting, labels)

    assert main(["reevaluate", "--model-dir", str(model_dir), "--allow-weak-labels"]) == 0  # tiny random model
    after = _card(model_dir)
    assert after["recommended_threshold"]["test"] == rec["test"]
    assert after["recommended_threshold"]["dev_classes"] == rec["dev_classes"]
    assert after["protected_calibration"] == entry
