"""The traps a new user hits with the CLI, each closed: data problems end in one line naming the file,
row and fix (exit 2, no traceback); header-less files work with column numbers; dev/test caps; label
order; nothing under models/ is written unless named; no option is accepted only to be ignored.
All through ``prepare`` or option checks (no training), so the whole file runs in a few seconds."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import COMMITTED_MODEL_DIR, MODELS_DIR
from deebert_export import cli
from deebert_export.cli import default_name, main
from deebert_export.data import read_jsonl


@pytest.fixture(autouse=True)
def build_in_tmp(tmp_path, monkeypatch):
    """Default work directories go to a temporary build/, never the checkout's."""
    monkeypatch.setenv("DEEBERT_BUILD_DIR", str(tmp_path / "build"))
    return tmp_path / "build"


def _prepare(capsys, *args):
    """Runs ``prepare`` on the given arguments; returns (exit status, stderr lines)."""
    rc = main(["prepare", *map(str, args)])
    return rc, capsys.readouterr().err.strip().splitlines()


def _one_line_error(capsys, *args) -> str:
    rc, err = _prepare(capsys, *args)
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("error: "), err   # one line, no traceback
    return err[0]


# --- each data problem: one line naming the file, the row and the fix ---------------------------

def test_missing_file_names_the_file(tmp_path, capsys):
    path = tmp_path / "nope.tsv"
    line = _one_line_error(capsys, "--train-file", path)
    assert f"{path}: file not found" in line and "check the path" in line


def test_empty_file_names_the_file(tmp_path, capsys):
    path = tmp_path / "empty.tsv"
    path.write_text("")
    line = _one_line_error(capsys, "--train-file", path)
    assert f"{path}: file is empty" in line and "header row" in line


def test_headerless_file_without_column_options_says_how_to_read_it(tmp_path, capsys):
    path = tmp_path / "nohead.tsv"
    path.write_text("a fine film\t1\na dull film\t0\n")
    line = _one_line_error(capsys, "--train-file", path)
    assert f"{path}:1: missing column 'text'" in line
    assert "--no-header --text-column N --label-column M" in line


def test_unknown_label_names_file_row_and_labels_option(tmp_path, capsys, sst2_sample_dir):
    dev = tmp_path / "dev.tsv"
    dev.write_text("sentence\tlabel\nfine\t1\nodd\tneutral\n")
    line = _one_line_error(capsys, "--train-file", sst2_sample_dir / "train.tsv", "--dev-file", dev,
                           "--test-file", dev)
    assert "unknown label 'neutral'" in line and "'dev.tsv:3'" in line and "--labels" in line


def test_unknown_label_against_explicit_labels(tmp_path, capsys, sst2_sample_dir):
    line = _one_line_error(capsys, "--train-file", sst2_sample_dir / "train.tsv", "--labels", "pos,neg")
    assert "unknown label" in line and "train.tsv:" in line and "--labels" in line


def test_non_utf8_names_file_row_and_fix(tmp_path, capsys):
    path = tmp_path / "latin1.tsv"
    path.write_bytes(b"sentence\tlabel\ngood\t1\ncaf\xe9\t0\n")
    line = _one_line_error(capsys, "--train-file", path)
    assert f"{path}:3: not UTF-8" in line and "re-save the file as UTF-8" in line


def test_missing_column_names_file_header_and_option(tmp_path, capsys):
    path = tmp_path / "nolabel.tsv"
    path.write_text("sentence\tscore\nok\t1\n")
    line = _one_line_error(capsys, "--train-file", path)
    assert f"{path}:1: missing column 'label'" in line and "--label-column" in line


def test_ragged_row_names_file_row_and_fix(tmp_path, capsys):
    path = tmp_path / "ragged.tsv"
    path.write_text("sentence\tlabel\nok\t1\nstray\ttab\t0\n")
    line = _one_line_error(capsys, "--train-file", path)
    assert f"{path}:3: expected 2 fields" in line and "found 3" in line and "fix or remove the row" in line


def test_ragged_row_in_headerless_file(tmp_path, capsys):
    path = tmp_path / "ragged.tsv"
    path.write_text("ok\t1\nfine\t0\nstray\ttab\t0\n")
    line = _one_line_error(capsys, "--train-file", path, "--no-header", "--text-column", 0, "--label-column", 1)
    assert f"{path}:3: expected 2 fields like line 1, found 3" in line


def test_no_header_needs_column_numbers(tmp_path, capsys):
    path = tmp_path / "nohead.tsv"
    path.write_text("a fine film\t1\n")
    line = _one_line_error(capsys, "--train-file", path, "--no-header", "--text-column", "sentence")
    assert "--no-header needs --text-column as a 0-based column number" in line


def test_a_real_process_prints_one_line_and_exits_2(tmp_path):
    # As a user sees it: nothing else on stderr (no traceback, no TensorFlow start-up log), status 2.
    path = tmp_path / "nohead.tsv"
    path.write_text("a fine film\t1\n")
    src = Path(cli.__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(src), DEEBERT_BUILD_DIR=str(tmp_path / "build"))
    proc = subprocess.run([sys.executable, "-m", "deebert_export", "run", "--train-file", str(path)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [proc.stderr.strip()] and proc.stderr.startswith(f"error: {path}:1: ")
    assert not (tmp_path / "build").exists()


# --- what works ---------------------------------------------------------------------------------

def test_headerless_file_with_column_numbers(tmp_path, capsys, sst2_sample_dir, build_in_tmp):
    # The sample without its header row, columns swapped: label first, then text.
    rows = (sst2_sample_dir / "train.tsv").read_text().splitlines()[1:]
    path = tmp_path / "reviews.tsv"
    path.write_text("".join(f"{label}\t{text}\n" for text, label in (r.split("\t") for r in rows)))
    rc, _ = _prepare(capsys, "--train-file", path, "--no-header", "--text-column", 1, "--label-column", 0)
    assert rc == 0
    config = json.loads((build_in_tmp / "reviews" / "data" / "prepare_config.json").read_text())
    assert config["header"] is False and config["labels"] == ["0", "1"]
    assert sum(config["sizes"].values()) == 200
    first = min((e for s in ("train", "dev", "test") for e in read_jsonl(build_in_tmp / "reviews" / "data" / f"{s}.jsonl")),
                key=lambda e: int(e.id.split(":")[1]))
    assert first.id == "reviews.tsv:1" and first.text == rows[0].split("\t")[0].strip()


def test_max_eval_examples_caps_dev_and_test_deterministically(tmp_path, capsys, sst2_sample_dir):
    train, dev = sst2_sample_dir / "train.tsv", sst2_sample_dir / "dev.tsv"
    ids = []
    for run in ("a", "b"):
        rc, _ = _prepare(capsys, "--work-dir", tmp_path / run, "--train-file", train, "--dev-file", dev,
                         "--test-file", dev, "--max-eval-examples", 10)
        assert rc == 0
        config = json.loads((tmp_path / run / "data" / "prepare_config.json").read_text())
        assert config["sizes"] == {"train": 200, "dev": 10, "test": 10}
        assert config["sizes_before_cap"] == {"train": 200, "dev": 100, "test": 100}
        assert config["max_eval_examples"] == 10
        ids.append([e.id for e in read_jsonl(tmp_path / run / "data" / "dev.jsonl")])
    assert ids[0] == ids[1]                                       # same seed, same rows
    assert ids[0] == sorted(ids[0], key=lambda i: int(i.split(":")[1]))   # kept in file order
    assert ids[0] != [f"dev.tsv:{n}" for n in range(2, 12)]       # a sample, not the first rows


def test_label_order_is_sorted_unless_given(tmp_path, capsys, sst2_sample_dir):
    train = sst2_sample_dir / "train.tsv"
    assert _prepare(capsys, "--work-dir", tmp_path / "s", "--train-file", train)[0] == 0
    assert _prepare(capsys, "--work-dir", tmp_path / "g", "--train-file", train, "--labels", "1,0")[0] == 0
    sorted_cfg = json.loads((tmp_path / "s" / "data" / "prepare_config.json").read_text())
    given_cfg = json.loads((tmp_path / "g" / "data" / "prepare_config.json").read_text())
    assert sorted_cfg["labels"] == ["0", "1"] and sorted_cfg["label_order"].startswith("sorted")
    assert given_cfg["labels"] == ["1", "0"] and given_cfg["label_order"] == "as given by --labels"
    assert json.loads((tmp_path / "g" / "data" / "labels.json").read_text()) == ["1", "0"]


def test_default_name_comes_from_the_training_file(tmp_path):
    assert default_name("tabular", tmp_path / "my reviews.tsv") == "my-reviews"
    assert default_name("tabular", tmp_path / "sst2" / "train.tsv") == "sst2"
    assert default_name("spamassassin", None) == "spamassassin"


# --- models/ is written only when named ---------------------------------------------------------

def test_export_to_the_committed_model_needs_overwrite_committed(capsys):
    before = (COMMITTED_MODEL_DIR / "model_card.json").stat().st_mtime_ns
    assert main(["export", "--name", "x", "--out", str(COMMITTED_MODEL_DIR)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds a committed model; add --overwrite-committed" in err[0]
    assert main(["reexport", "--model-dir", str(COMMITTED_MODEL_DIR)]) == 2
    assert (COMMITTED_MODEL_DIR / "model_card.json").stat().st_mtime_ns == before


def test_defaults_never_point_into_models(capsys, tmp_path):
    # A work dir under models/ would put the export under models/ without --out.
    assert main(["run", "--train-file", str(tmp_path / "x.tsv"), "--work-dir", str(MODELS_DIR / "x")]) == 2
    assert "work directories belong under build/" in capsys.readouterr().err
    assert not (MODELS_DIR / "x").exists()


def test_default_locations_are_under_the_current_directory(tmp_path, monkeypatch, capsys):
    # Nothing is found from where the package is installed: build/ and models/ are the current directory's
    # (model-export/ when run as documented) unless $DEEBERT_BUILD_DIR / $DEEBERT_MODELS_DIR say otherwise.
    monkeypatch.delenv("DEEBERT_BUILD_DIR")
    monkeypatch.delenv("DEEBERT_MODELS_DIR")
    monkeypatch.chdir(tmp_path)
    assert cli.build_root() == tmp_path / "build"
    assert cli.models_dir() == tmp_path / "models"
    committed = tmp_path / "models" / "m"
    committed.mkdir(parents=True)
    (committed / "model_card.json").write_text("{}")
    assert main(["reexport", "--model-dir", "models/m"]) == 2
    assert "holds a committed model; add --overwrite-committed" in capsys.readouterr().err
    assert main(["run", "--train-file", str(tmp_path / "x.tsv"), "--work-dir", "models/x"]) == 2
    assert "work directories belong under build/" in capsys.readouterr().err
    monkeypatch.setenv("DEEBERT_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert cli.models_dir() == tmp_path / "elsewhere"


def test_golden_writes_the_committed_files_byte_for_byte(tmp_path, monkeypatch, capsys):
    # Run from model-export/ as documented: the command runs tools/golden.py, which writes the same bytes.
    monkeypatch.chdir(MODELS_DIR.parent)
    out, pairs = tmp_path / "g" / "exit_policies.json", tmp_path / "g" / "pair_tokens.json"
    assert main(["golden", "--out", str(out), "--pair-tokens-out", str(pairs)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"wrote {out} with ") and lines[1].startswith(f"wrote {pairs} with ")
    golden = MODELS_DIR.parent / "tests" / "golden"
    assert out.read_bytes() == (golden / "exit_policies.json").read_bytes()
    assert pairs.read_bytes() == (golden / "pair_tokens.json").read_bytes()


def test_golden_outside_a_checkout_says_where_to_run_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["golden", "--out", str(tmp_path / "a.json"), "--pair-tokens-out", str(tmp_path / "b.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run it from model-export/" in err[0]
    assert not (tmp_path / "a.json").exists()


def test_steps_after_prepare_need_a_name_or_work_dir(capsys):
    assert main(["train"]) == 2
    assert "train needs --name NAME" in capsys.readouterr().err


def test_no_option_is_accepted_only_to_be_ignored():
    # evaluate writes no model, so it has no model options; export re-uses evaluate's choice of S.
    for argv in (["evaluate", "--out", "x"], ["evaluate", "--task", "t"], ["evaluate", "--model-version", "2"],
                 ["export", "--max-accuracy-drop", "0.1"], ["train", "--out", "x"], ["prepare", "--out", "x"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2, argv


def test_help_documents_label_order_and_where_files_go(capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", "--help"])
    assert e.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "sorted training labels (string order" in out and "--labels a,b,..." in out
    assert "build/NAME/" in out and "--overwrite-committed" in out and "--max-eval-examples N" in out
