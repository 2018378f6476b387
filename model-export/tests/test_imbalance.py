"""Learning the small class: class weights in every off-ramp's cross-entropy (``--class-weight``, with
``auto`` = balanced below 20 % for the smallest label), checkpoint selection on a dev metric of the last
off-ramp (``--select-on``), and an imbalanced variant of a data set (``--minority-share``).

The rules are checked on hand-made numbers; the pipeline on a tiny random-init model trained on the
committed SST-2 sample with its label '0' subsampled to 10 %."""
from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from deebert_export import evaluate as ev
from deebert_export.cli import main
from deebert_export.config import TrainConfig, parse_class_weight, parse_select_on, resolve_class_weights
from deebert_export.data.examples import Example
from deebert_export.data.prepare import subsample_label
from deebert_export.model import BertConfig, DeeBertModel
from deebert_export.train import DevSelection, _ce, evaluation_steps, train_stage1

from support.tiny_checkpoints import TINY_CONFIG, write_tiny_checkpoint

LABELS = ["ham", "spam"]


# --- --class-weight -----------------------------------------------------------------------------

def test_class_weight_syntax():
    assert parse_class_weight("auto") == "auto" and parse_class_weight("none") == "none"
    assert parse_class_weight("spam:5, ham:0.5") == {"spam": 5.0, "ham": 0.5}
    assert parse_class_weight("a:b:2") == {"a:b": 2.0}   # the weight follows the last ':'
    for bad in ("spam", "spam:", "spam:0", "spam:-1", "spam:nan", "spam:inf", ":2", "spam:2,spam:3", "weighted"):
        with pytest.raises(ValueError, match="class_weight"):
            parse_class_weight(bad)
    with pytest.raises(ValueError, match="class_weight"):
        TrainConfig(class_weight="spam:x")


def test_auto_is_balanced_only_when_the_smallest_label_is_under_20_percent():
    five = resolve_class_weights("auto", LABELS, {"ham": 950, "spam": 50})
    assert five["resolved"] == "balanced" and "5.0% of 1000 training rows, under 20%" in five["rule"]
    # sklearn's balanced rule: n / (C * n_label)
    assert five["weights"] == {"ham": pytest.approx(1000 / (2 * 950)), "spam": pytest.approx(1000 / (2 * 50))}
    at_20 = resolve_class_weights("auto", LABELS, {"ham": 800, "spam": 200})
    assert at_20["resolved"] == "none" and at_20["weights"] == {"ham": 1.0, "spam": 1.0}
    assert "not under 20%" in at_20["rule"]
    assert resolve_class_weights("balanced", LABELS, {"ham": 800, "spam": 200})["weights"]["spam"] == pytest.approx(2.5)
    given = resolve_class_weights("spam:4", LABELS, {"ham": 800, "spam": 200})
    assert given["resolved"] == "given" and given["weights"] == {"ham": 1.0, "spam": 4.0} and "rule" not in given
    with pytest.raises(ValueError, match="'phish' is not a label"):
        resolve_class_weights("phish:3", LABELS, {"ham": 1, "spam": 1})
    with pytest.raises(ValueError, match="'spam' has no training row"):
        resolve_class_weights("balanced", LABELS, {"ham": 10, "spam": 0})


def test_the_training_step_prints_the_resolved_weights_and_reports_impossible_ones_as_data_errors(capsys):
    from deebert_export.data.examples import DataError
    from deebert_export.pipeline import resolve_training_class_weights
    rows = [Example(str(i), "x", "ham") for i in range(19)] + [Example("s", "y", "spam")]
    resolved = resolve_training_class_weights(TrainConfig(), LABELS, rows)
    assert resolved["weights"] == {"ham": pytest.approx(20 / 38), "spam": pytest.approx(10.0)}
    assert capsys.readouterr().err.strip() == (
        "class weights: --class-weight auto -> balanced (auto: the smallest label 'spam' is 5.0% of 20 training "
        "rows, under 20%, so balanced): ham 0.5263, spam 10")
    with pytest.raises(DataError, match="'spam' has no training row"):
        resolve_training_class_weights(TrainConfig(class_weight="balanced"), LABELS, rows[:19])


def test_weighted_cross_entropy_is_the_mean_of_weight_times_loss():
    logits = tf.constant([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = tf.constant([0, 1, 1])
    per_row = -np.log(np.exp([2.0, 1.0, 1.0]) / np.exp([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]]).sum(-1))
    assert float(_ce(y, logits)) == pytest.approx(per_row.mean(), rel=1e-6)
    w = tf.constant([0.5, 4.0])
    assert float(_ce(y, logits, w)) == pytest.approx((per_row * [0.5, 4.0, 4.0]).mean(), rel=1e-6)


# --- --select-on ----------------------------------------------------------------------------------

def test_selection_metrics_on_hand_made_predictions():
    gold, pred = np.array([0, 0, 0, 1]), np.array([0, 0, 0, 0])
    assert ev.selection_metric("accuracy", gold, pred, LABELS) == 0.75
    assert ev.selection_metric("recall:spam", gold, pred, LABELS) == 0.0
    assert ev.selection_metric("recall:ham", gold, pred, LABELS) == 1.0
    assert ev.selection_metric("macro-f1", gold, pred, LABELS) == pytest.approx((6 / 7 + 0.0) / 2)
    with pytest.raises(ValueError, match="'phish' is not a label"):
        ev.selection_metric("recall:phish", gold, pred, LABELS)


def test_select_on_syntax_and_options_it_makes_pointless():
    assert parse_select_on("recall:spam") == ("recall", "spam") and parse_select_on("last") == ("last", None)
    for bad in ("recall", "recall:", "f1", "precision:spam"):
        with pytest.raises(ValueError, match="select_on"):
            parse_select_on(bad)
    with pytest.raises(ValueError, match="evals_per_epoch = 2 has no effect with select_on 'last'"):
        TrainConfig(select_on="last", evals_per_epoch=2)
    with pytest.raises(ValueError, match="evals_per_epoch 0"):
        TrainConfig(evals_per_epoch=0)


def test_evaluation_steps_are_spread_over_each_epoch_and_include_the_last():
    assert evaluation_steps(63, 63, 4) == [16, 32, 48, 63]
    assert evaluation_steps(126, 63, 4) == [16, 32, 48, 64, 80, 96, 112, 126]
    assert evaluation_steps(3, 6, 4) == [2, 3]        # half an epoch of 6 batches
    assert evaluation_steps(5, 5, 10) == [1, 2, 3, 4, 5]


def _tiny_model_and_data(n_train=48, n_dev=16):
    rng = np.random.default_rng(0)
    cfg = BertConfig.from_dict(dict(TINY_CONFIG, vocab_size=50))
    model = DeeBertModel(cfg, 2, seed=3)
    ids = [list(rng.integers(3, 50, size=rng.integers(4, 10))) for _ in range(n_train + n_dev)]
    y = rng.integers(0, 2, size=n_train + n_dev).astype(np.int32)
    return model, ids[:n_train], y[:n_train], ids[n_train:], y[n_train:]


@pytest.mark.parametrize("scripted, best", [([0.5, 0.9, 0.7], 1), ([0.9, 0.9, 0.5], 1)])
def test_checkpoint_selection_restores_the_weights_of_the_best_evaluation(monkeypatch, scripted, best):
    """The metric is scripted so the best step is known; the weights seen at each evaluation are recorded,
    and after stage 1 the model must hold those of the best (ties: the later) evaluation."""
    model, ids, y, dev_ids, dev_y = _tiny_model_and_data()
    seen, values = [], iter(scripted)

    def fake_metric(spec, gold, pred, label_names):
        assert spec == "macro-f1" and len(gold) == len(pred) == 16
        seen.append([v.numpy().copy() for v in model.encoder_variables() + model.off_ramp_variables([2])])
        return next(values)
    monkeypatch.setattr(ev, "selection_metric", fake_metric)
    cfg = TrainConfig(batch_size=16, stage1_learning_rate=1e-2, evals_per_epoch=3)   # 3 steps, 3 evaluations
    stats = train_stage1(model, ids, y, cfg, dev=DevSelection(dev_ids, dev_y, LABELS, "macro-f1", 3))
    sel = stats["checkpoint_selection"]
    assert [e["step"] for e in sel["evaluations"]] == [1, 2, 3] and [e["value"] for e in sel["evaluations"]] == scripted
    assert sel["chosen_step"] == best + 1 and sel["chosen_value"] == scripted[best]
    assert sel["restored"] and sel["total_steps"] == 3 and sel["off_ramp"] == 3
    now = [v.numpy() for v in model.encoder_variables() + model.off_ramp_variables([2])]
    for a, b in zip(now, seen[best]):
        np.testing.assert_array_equal(a, b)
    # the weights did move after the kept step: the restore is what brought them back
    assert any(not np.array_equal(a, b) for a, b in zip(seen[2], seen[best]))


# --- --minority-share ---------------------------------------------------------------------------

def test_subsample_label_keeps_every_other_row_and_the_share_of_the_label():
    examples = [Example(f"h{i}", f"ham {i}", "ham") for i in range(95)] + \
               [Example(f"s{i}", f"spam {i}", "spam") for i in range(40)]
    kept = subsample_label(examples, "spam", 0.05, seed=13)
    assert sum(e.label == "ham" for e in kept) == 95 and sum(e.label == "spam" for e in kept) == 5   # 5 / 100
    assert kept == subsample_label(examples, "spam", 0.05, seed=13)                               # seeded
    assert kept != subsample_label(examples, "spam", 0.05, seed=14)
    assert [e.id for e in kept] == [e.id for e in examples if e in kept]                           # input order
    assert len(subsample_label(examples, "spam", 0.9, seed=13)) == 135   # fewer rows than asked: all kept


@pytest.fixture(scope="module")
def imbalanced_run(tmp_path_factory, sst2_sample_dir):
    """``run`` on the SST-2 sample with label '0' subsampled to 10 % of every split: tiny model, defaults for
    --class-weight and --select-on."""
    tmp = tmp_path_factory.mktemp("imbalanced")
    ckpt = write_tiny_checkpoint(tmp / "ckpt")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEEBERT_BUILD_DIR", str(tmp / "build"))
        rc = main(["run", "--train-file", str(sst2_sample_dir / "train.tsv"), "--minority-share", "0.1",
                   "--checkpoint", str(ckpt), "--max-seq-length", "24", "--batch-size", "16",
                   "--stage2-epochs", "2", "--allow-weak-labels"])
    assert rc == 0
    return tmp / "build" / "sst2-sample-minority10"


def test_minority_share_subsamples_every_split_and_is_recorded(imbalanced_run):
    config = json.loads((imbalanced_run / "data" / "prepare_config.json").read_text())
    m = config["minority"]
    assert m["label"] == "0" and m["share"] == 0.1 and m["applied_to"] == ["train", "dev", "test"]
    for split in ("train", "dev", "test"):
        counts = config["counts"][split]
        assert counts["0"] == m["kept"][split] == round(0.1 * counts["1"] / 0.9)
    assert config["counts"]["train"]["1"] == 89   # every row of the other label kept (70 % of 127)
    card = json.loads((imbalanced_run / "model" / "model_card.json").read_text())
    assert card["data"]["minority"] == m
    assert any("0 was subsampled to 10% of every split" in x for x in card["limitations"])


def test_defaults_weigh_the_small_class_and_select_a_checkpoint_on_dev_macro_f1(imbalanced_run):
    record = json.loads((imbalanced_run / "train" / "train_config.json").read_text())
    card = json.loads((imbalanced_run / "model" / "model_card.json").read_text())
    cw = card["training"]["class_weight"]
    assert cw == record["class_weight"]
    n0, n1 = cw["train_counts"]["0"], cw["train_counts"]["1"]
    assert (n0, n1) == (10, 89) and cw["option"] == "auto" and cw["resolved"] == "balanced"
    assert cw["weights"] == {"0": pytest.approx(99 / (2 * 10)), "1": pytest.approx(99 / (2 * 89))}
    sel = card["training"]["checkpoint_selection"]
    assert sel["metric"] == "macro-f1" and sel["split"] == "dev" and sel["num_examples"] == card["data"]["sizes"]["dev"]
    steps = [e["step"] for e in sel["evaluations"]]
    assert steps == evaluation_steps(7, 7, 4) == [2, 4, 6, 7]   # 99 rows / batch 16 = 7 steps, 4 evaluations
    best = max(e["value"] for e in sel["evaluations"])
    assert sel["chosen_step"] == max(e["step"] for e in sel["evaluations"] if e["value"] == best)   # ties: later
    assert card["training"]["train_config"]["select_on"] == "macro-f1"


def test_class_weight_and_select_on_labels_are_checked_before_training(tmp_path, sst2_sample_dir, capsys):
    for option, message in ((["--class-weight", "spam:3"], "--class-weight 'spam:3': 'spam' is not a label"),
                            (["--select-on", "recall:spam"], "--select-on 'recall:spam': 'spam' is not a label")):
        rc = main(["run", "--train-file", str(sst2_sample_dir / "train.tsv"), "--work-dir", str(tmp_path / "w"),
                   *option])
        err = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error")]
        assert rc == 2 and len(err) == 1 and message in err[0] and "its labels are 0, 1" in err[0]
        assert not (tmp_path / "w" / "train").exists()


def test_a_weak_label_makes_run_exit_3_after_exporting(tmp_path, sst2_sample_dir, capsys):
    """Floor 1.0: a tiny random model does not find every dev input of both labels, so some label is weak;
    run still writes the model, then exits 3 naming the label, its dev recall and the floor."""
    ckpt = write_tiny_checkpoint(tmp_path / "ckpt")
    rc = main(["run", "--train-file", str(sst2_sample_dir / "train.tsv"), "--work-dir", str(tmp_path / "w"),
               "--checkpoint", str(ckpt), "--max-seq-length", "16", "--max-train-examples", "32",
               "--stage2-epochs", "1", "--select-on", "last", "--max-eval-examples", "12", "--min-label-recall", "1.0"])
    err = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error")]
    card = json.loads((tmp_path / "w" / "model" / "model_card.json").read_text())
    assert rc == 3 and err and len(err) == len(card["warnings"])
    assert all("is weak on dev at the last off-ramp" in x and "floor --min-label-recall 1.0" in x
               and "--allow-weak-labels" in x and "recall " in x for x in err)
    assert "checkpoint_selection" not in card["training"]   # --select-on last evaluates nothing
    assert card["training"]["class_weight"]["resolved"] == "none"   # 36 % is not under 20 %
