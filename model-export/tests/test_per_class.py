"""Per-class figures everywhere the tool reports a model's quality: per off-ramp, per sweep row, for the
recommended and calibrated settings; the protected label (``--protect-label``) in the model card and in
the printed summaries; weak labels (never predicted, or dev recall below ``--min-label-recall``) warned
about on stderr and listed in the card's ``warnings``.

The maths is checked on hand-made logits whose confusion matrices are known; the card fields on the
tiny model that test_pipeline.py trains on the committed SST-2 sample (its ``first_run`` fixture)."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import COMMITTED_MODEL_DIR
from deebert_export import evaluate as ev
from deebert_export import pipeline
from deebert_export import selection as sel
from deebert_export.cli import main

from test_pipeline import first_run  # noqa: F401  (the module fixture: one tiny training run)

LABELS = ["ham", "spam", "phish"]


def _hand_made():
    """6 inputs, 2 off-ramps, 3 classes. Layer 1 predicts [0, 0, 1, 1, 1, 1], layer 2 [0, 0, 0, 1, 1, 2];
    gold is [0, 0, 0, 1, 1, 2]: layer 2 is perfect, layer 1 never predicts 'phish'."""
    gold = np.array([0, 0, 0, 1, 1, 2])
    layer1 = [0, 0, 1, 1, 1, 1]
    layer2 = [0, 0, 0, 1, 1, 2]
    logits = np.zeros((6, 2, 3), np.float32)
    for i, (a, b) in enumerate(zip(layer1, layer2)):
        logits[i, 0, a] = 5.0   # confident: entropy ~0.013 nats
        logits[i, 1, b] = 5.0
    return logits, gold


def test_class_metrics_on_hand_made_predictions():
    logits, gold = _hand_made()
    layers = ev.per_layer_class_metrics(logits, gold, LABELS)
    first = layers[0]
    assert first["exit_layer"] == 1 and first["accuracy"] == pytest.approx(4 / 6)
    assert first["confusion_matrix"] == {"ham": {"ham": 2, "spam": 1, "phish": 0},
                                         "spam": {"ham": 0, "spam": 2, "phish": 0},
                                         "phish": {"ham": 0, "spam": 1, "phish": 0}}
    ham, spam, phish = (first["per_class"][k] for k in LABELS)
    assert (ham["precision"], ham["recall"], ham["support"], ham["predicted"]) == (1.0, pytest.approx(2 / 3), 3, 2)
    assert ham["f1"] == pytest.approx(0.8)
    assert (spam["precision"], spam["recall"], spam["predicted"]) == (0.5, 1.0, 4)
    assert spam["f1"] == pytest.approx(2 / 3)
    # never predicted: zero_division=0 gives precision 0, not a warning or NaN
    assert (phish["precision"], phish["recall"], phish["f1"], phish["predicted"]) == (0.0, 0.0, 0.0, 0)
    assert first["macro_f1"] == pytest.approx((0.8 + 2 / 3 + 0.0) / 3)
    last = layers[1]
    assert last["accuracy"] == 1.0 and last["macro_f1"] == 1.0
    assert all(last["confusion_matrix"][g][p] == (g == p) * {"ham": 3, "spam": 2, "phish": 1}[g]
               for g in LABELS for p in LABELS)


def test_sweep_rows_carry_the_per_class_figures_of_the_exits_they_take():
    logits, gold = _hand_made()
    no_exit, all_first = sel.sweep(logits, gold, [0.0, 0.5], "entropy", LABELS)
    assert no_exit["exit_histogram"] == [0, 6] and no_exit["per_class"]["phish"]["recall"] == 1.0
    assert all_first["exit_histogram"] == [6, 0]
    assert all_first["confusion_matrix"] == ev.per_layer_class_metrics(logits, gold, LABELS)[0]["confusion_matrix"]
    assert "per_class" not in sel.sweep(logits, gold, [0.0], "entropy")[0]   # only when label names are given
    line = ev.setting_summary("test, entropy S=0.5", ev.per_layer_class_metrics(logits, gold, LABELS)[-1],
                              all_first, "phish")
    assert "accuracy 100.00% -> 66.67% (-33.33 pt)" in line and "phish recall 1.000 -> 0.000" in line
    # calibrate's entries: the chosen setting's and the full model's dev figures per class
    c = sel.calibrate_policy(logits, gold, "entropy", 50.0, LABELS)
    assert c["value"] > 0 and c["dev_classes"]["per_class"]["phish"]["predicted"] == 0
    assert c["full_dev_classes"]["macro_f1"] == 1.0


def test_weak_labels_never_predicted_or_below_the_recall_floor():
    logits, gold = _hand_made()
    first = ev.per_layer_class_metrics(logits, gold, LABELS)[0]
    warnings = ev.weak_label_warnings(first, 0.7)
    assert len(warnings) == 2
    assert warnings[0].startswith("weak label 'ham': dev recall 0.667") and "below --min-label-recall 0.7" in warnings[0]
    assert warnings[1].startswith("weak label 'phish': never predicted on dev by the last off-ramp")
    assert ev.weak_label_warnings(first, 0.5) == [warnings[1]]
    assert ev.weak_label_warnings(ev.per_layer_class_metrics(logits, gold, LABELS)[1], 1.0) == []


@pytest.fixture
def work_copy(first_run, tmp_path):  # noqa: F811
    """A fresh copy of the tiny run's work directory (data, train, eval) and exported model."""
    return shutil.copytree(first_run["work"], tmp_path / "work")


def test_card_names_the_protected_label_and_has_per_class_fields(first_run):  # noqa: F811
    card = json.loads((first_run["work"] / "model" / "model_card.json").read_text())
    assert card["protected_label"] is None   # a tabular task protects nothing unless asked
    assert isinstance(card["warnings"], list)
    assert [m["exit_layer"] for m in card["per_layer_classes"]["test"]] == [1, 2, 3]
    assert [m["accuracy"] for m in card["per_layer_classes"]["dev"]] == card["per_layer_accuracy"]["dev"]
    for row in card["sweep"]["test"] + card["sweep_divergence"]["dev"] + [card["recommended_threshold"]["test"]]:
        assert set(row["per_class"]) == {"0", "1"} and 0.0 <= row["macro_f1"] <= 1.0
        assert sum(sum(r.values()) for r in row["confusion_matrix"].values()) == 20
    assert set(card["recommended_threshold"]["dev_classes"]) == set(ev.CLASS_KEYS)
    out = first_run["work"] / "model" / "eval"
    header = (out / "test_sweep_entropy.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["policy", "threshold", "accuracy"] and "recall_1" in header and "macro_f1" in header
    assert json.loads((out / "test_per_layer_accuracy.json").read_text()) == card["per_layer_accuracy"]["test"]
    assert json.loads((out / "dev_per_layer_classes.json").read_text()) == card["per_layer_classes"]["dev"]


@pytest.mark.parametrize("command", ["evaluate", "calibrate", "reevaluate"])
def test_unknown_protected_label_is_one_line_naming_the_labels(work_copy, command, capsys):
    model = work_copy / "model"
    argv = {"evaluate": ["evaluate", "--work-dir", str(work_copy)],
            "calibrate": ["calibrate", "--model-dir", str(model), "--max-accuracy-loss", "0.5"],
            "reevaluate": ["reevaluate", "--model-dir", str(model)]}[command]
    before = (model / "model_card.json").read_bytes()
    assert main(argv + ["--protect-label", "spam"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --protect-label 'spam': not a label of this task; its labels are 0, 1"]
    assert (model / "model_card.json").read_bytes() == before


def test_run_refuses_an_unknown_protected_label_before_training(tmp_path, sst2_sample_dir, capsys):
    assert main(["run", "--train-file", str(sst2_sample_dir / "train.tsv"), "--work-dir", str(tmp_path / "w"),
                 "--protect-label", "positive"]) == 2
    err = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error")]
    assert err == ["error: --protect-label 'positive': not a label of this task; its labels are 0, 1"]
    assert not (tmp_path / "w" / "train").exists()


def test_protected_label_is_recorded_and_its_recall_printed(work_copy, capsys):
    model = work_copy / "model"
    assert main(["calibrate", "--model-dir", str(model), "--max-accuracy-loss", "0.5", "--policy", "entropy",
                 "--protect-label", "1"]) == 0
    out = capsys.readouterr().out
    card = json.loads((model / "model_card.json").read_text())
    c = card["calibrated"]["entropy"]
    assert card["protected_label"] == "1"
    assert (f"1 recall {c['full_dev_classes']['per_class']['1']['recall']:.3f} -> "
            f"{c['dev_classes']['per_class']['1']['recall']:.3f}") in out
    # re-evaluating keeps every figure and chosen setting, and prints the protected label's recall on test
    rec = card["recommended_threshold"]["value"]
    assert main(["reevaluate", "--model-dir", str(model), "--allow-weak-labels"]) == 0   # a tiny model
    out = capsys.readouterr().out
    after = json.loads((model / "model_card.json").read_text())
    assert after["protected_label"] == "1" and after["recommended_threshold"]["value"] == rec
    assert after["per_layer_accuracy"] == card["per_layer_accuracy"]
    assert f"recommended entropy {rec} on test" in out and "1 recall" in out


def test_a_never_predicted_label_fails_evaluate_and_export_after_writing_unless_allowed(work_copy, monkeypatch,
                                                                                         capsys):
    """A model whose off-ramps all favour label '0' by 100 logits: '1' is never predicted on dev. evaluate
    and export write their files, name the label, its recall and the floor and how to override on stderr,
    and exit 3; with --allow-weak-labels they exit 0 with a note."""
    real_logits, real_session = pipeline.all_logits, pipeline.run_session_style

    def shifted(logits):
        logits = np.array(logits, copy=True)
        logits[..., 0] += 100.0
        return logits
    monkeypatch.setattr(pipeline, "all_logits", lambda *a, **k: shifted(real_logits(*a, **k)))
    monkeypatch.setattr(pipeline, "run_session_style", lambda *a, **k: shifted(real_session(*a, **k)))
    evaluation = work_copy / "eval" / "evaluation.json"
    evaluation.unlink()
    assert main(["evaluate", "--work-dir", str(work_copy), "--min-label-recall", "0.5"]) == 3
    err = capsys.readouterr().err.splitlines()
    warnings = [x for x in err if x.startswith("warning")]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: weak label '1': never predicted on dev by the last off-ramp")
    errors = [x for x in err if x.startswith("error")]
    assert len(errors) == 1 and errors[0].startswith(
        "error: label '1' is weak on dev at the last off-ramp: never predicted, recall 0.000 over 12 inputs, "
        "floor --min-label-recall 0.5.")
    assert f"{evaluation} was written" in errors[0] and "--allow-weak-labels" in errors[0]
    assert json.loads(evaluation.read_text())["warnings"] == [warnings[0].removeprefix("warning: ")]

    assert main(["export", "--work-dir", str(work_copy), "--out", str(work_copy / "weak")]) == 3
    errors = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error")]
    assert len(errors) == 1 and "label '1' is weak" in errors[0] and str(work_copy / "weak") in errors[0]
    card = json.loads((work_copy / "weak" / "model_card.json").read_text())
    assert card["warnings"] == [warnings[0].removeprefix("warning: ")]
    assert card["per_layer_classes"]["dev"][-1]["per_class"]["1"]["predicted"] == 0

    assert main(["export", "--work-dir", str(work_copy), "--out", str(work_copy / "weak"), "--allow-weak-labels"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert not [x for x in err if x.startswith("error")]
    assert [x for x in err if x.startswith("note: label '1' is weak")]


def test_a_label_below_the_recall_floor_fails_reevaluate_unless_allowed(work_copy, capsys):
    """Floor 1.0: any label the tiny model does not find on every dev input is weak (never predicted or
    below the floor); reevaluate updates the card first, then exits 3 naming the label, recall and floor."""
    model = work_copy / "model"
    assert main(["reevaluate", "--model-dir", str(model), "--min-label-recall", "1.0"]) == 3
    errors = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error")]
    card = json.loads((model / "model_card.json").read_text())
    weak = ev.weak_labels(card["per_layer_classes"]["dev"][-1], 1.0)
    assert weak and len(errors) == len(weak) and len(card["warnings"]) == len(weak)
    for w, line in zip(weak, errors):
        assert f"label {w['label']!r} is weak on dev" in line and f"recall {w['recall']:.3f}" in line
        assert "floor --min-label-recall 1.0" in line and "--allow-weak-labels" in line
    assert main(["reevaluate", "--model-dir", str(model), "--min-label-recall", "1.0", "--allow-weak-labels"]) == 0


def test_weak_labels_are_records_with_recall_support_and_whether_never_predicted():
    logits, gold = _hand_made()
    first = ev.per_layer_class_metrics(logits, gold, LABELS)[0]
    assert ev.weak_labels(first, 0.7) == [
        {"label": "ham", "recall": pytest.approx(2 / 3), "support": 3, "predicted": 2, "never_predicted": False},
        {"label": "phish", "recall": 0.0, "support": 1, "predicted": 0, "never_predicted": True}]


def test_min_label_recall_must_be_a_fraction(work_copy, capsys):
    assert main(["evaluate", "--work-dir", str(work_copy), "--min-label-recall", "50"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: --min-label-recall 50.0: give a fraction between 0 and 1"]


def test_the_committed_card_is_reevaluated_only_with_overwrite_committed(capsys):
    card = COMMITTED_MODEL_DIR / "model_card.json"
    before = card.stat().st_mtime_ns
    assert main(["reevaluate", "--model-dir", str(COMMITTED_MODEL_DIR)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--overwrite-committed" in err[0]
    assert card.stat().st_mtime_ns == before


def test_the_committed_card_protects_spam_and_its_test_figures_match_the_reference_outputs():
    """The committed default model's card (re-evaluated, not retrained): protected_label spam, no weak
    label, and its test per-class figures are those of the logits in reference_outputs.jsonl. Its
    recommended setting is the protected calibration's (per-label entropy thresholds, chosen on dev); the
    old single S it replaced is kept with its figures under protected_calibration.old_recommended."""
    card = json.loads((COMMITTED_MODEL_DIR / "model_card.json").read_text())
    assert card["protected_label"] == "spam" and card["warnings"] == []
    refs = [json.loads(x) for x in (COMMITTED_MODEL_DIR / "reference_outputs.jsonl").read_text().splitlines()]
    logits = np.array([r["logits"] for r in refs], np.float32)
    gold = np.array([r["label_index"] for r in refs])
    assert card["per_layer_classes"]["test"] == ev.per_layer_class_metrics(logits, gold, card["labels"])

    rec = card["recommended_threshold"]
    assert rec["policy"] == "entropy" and set(rec["label_thresholds"]) == {"ham", "spam"}
    assert rec["value"] == rec["label_thresholds"]["ham"] and rec["chosen_on"] == "dev"
    row = sel.setting_row(logits, gold, sel.setting_of(rec, card["labels"]), card["labels"])
    assert rec["test"] == row
    assert row["confusion_matrix"] == {"ham": {"ham": 593, "spam": 24}, "spam": {"ham": 6, "spam": 265}}
    entry = card["protected_calibration"]
    assert entry["chosen"]["label_thresholds"] == rec["label_thresholds"] and entry["label"] == "spam"
    old = entry["old_recommended"]
    assert old["recorded"]["value"] == 0.141725 and old["value"] == 0.141725
    assert sel.sweep(logits, gold, [0.141725], "entropy", card["labels"])[0]["confusion_matrix"] == \
        entry["test"]["old_recommended"]["classes"]["confusion_matrix"] == \
        {"ham": {"ham": 604, "spam": 13}, "spam": {"ham": 7, "spam": 264}}