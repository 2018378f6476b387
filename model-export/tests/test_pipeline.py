"""End to end: a tiny random-init checkpoint, two-stage fine-tuned for a few steps on real SST-2 text
(the committed sample in tests/data/sst2-sample, so these tests never skip) through the CLI, as a new
user's first ``run`` on their own TSV, evaluated and exported; the export is then run layer by layer
the way the C runtime (and so DJL) loads it, and compared with the Python model."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import COMMITTED_MODEL_DIR, MODELS_DIR
from deebert_export import pipeline
from deebert_export.cli import main
from deebert_export.data import read_jsonl
from deebert_export.export import describe_signatures, run_session_style
from deebert_export.tokenization import encode, load_tokenizer, pad_batch

from support.tiny_checkpoints import write_tiny_checkpoint


def _snapshot(root):
    """Every file under ``root``: relative path -> (sha256, mtime_ns)."""
    return {str(f.relative_to(root)): (hashlib.sha256(f.read_bytes()).hexdigest(), f.stat().st_mtime_ns)
            for f in sorted(root.rglob("*")) if f.is_file()}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, sst2_sample_dir):
    """A new user's first ``run`` on their own TSV: no --name, --work-dir or --out, only the options
    that make it fast. ``$DEEBERT_BUILD_DIR`` points the default build/ at a temporary folder so the
    test leaves the checkout's build/ alone; models/ is the real one, snapshotted before and after."""
    tmp = tmp_path_factory.mktemp("pipeline")
    ckpt = write_tiny_checkpoint(tmp / "ckpt")
    models_before = _snapshot(MODELS_DIR)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEEBERT_BUILD_DIR", str(tmp / "build"))
        rc = main(["run", "--train-file", str(sst2_sample_dir / "train.tsv"),
                   "--checkpoint", str(ckpt), "--max-seq-length", "24", "--batch-size", "16",
                   "--max-train-examples", "96", "--stage2-epochs", "2", "--max-eval-examples", "20",
                   # six steps of a random-init model learn no label: the weak-label exit is tested on its own
                   "--allow-weak-labels"])
    assert rc == 0
    return {"work": tmp / "build" / "sst2-sample", "models_before": models_before}


@pytest.fixture(scope="module")
def exported(first_run):
    work = first_run["work"]
    return work, work / "model"


def test_first_run_on_own_tsv_writes_under_build_name_and_leaves_models_untouched(first_run):
    work = first_run["work"]
    assert (work / "data" / "prepare_config.json").is_file() and (work / "model" / "model_card.json").is_file()
    assert _snapshot(MODELS_DIR) == first_run["models_before"]   # same files, bytes and mtimes
    assert (COMMITTED_MODEL_DIR / "model_card.json").is_file()
    card = json.loads((work / "model" / "model_card.json").read_text())
    assert card["name"] == "sst2-sample" and card["task"] == "text classification"   # not "spam moderation"
    assert card["label_order"] == "sorted training labels (string order)"


def test_default_regime_is_two_stage_and_exports_no_bypass_weights(first_run):
    work = first_run["work"]
    record = json.loads((work / "train" / "train_config.json").read_text())
    card = json.loads((work / "model" / "model_card.json").read_text())
    assert record["regime"] == card["training"]["regime"] == "two-stage" and record["off_ramp_bypass_rank"] == 0
    assert {"stage1", "stage2"} <= set(card["training"]) and "joint" not in card["training"]
    assert "off_ramp_bypass" not in card["training"]
    reader = tf.train.load_checkpoint(str(work / "model" / "saved_model" / "variables" / "variables"))
    assert not [k for k in reader.get_variable_to_shape_map() if "bypass" in k]


def test_max_eval_examples_caps_dev_and_test_and_is_recorded_beside_the_model(first_run):
    work = first_run["work"]
    card = json.loads((work / "model" / "model_card.json").read_text())
    assert card["data"]["max_eval_examples"] == 20
    assert card["data"]["sizes"] == {"train": 140, "dev": 20, "test": 20}
    assert card["data"]["sizes_before_cap"] == {"train": 140, "dev": 30, "test": 30}
    assert json.loads((work / "model" / "export_config.json").read_text())["max_eval_examples"] == 20
    assert len(read_jsonl(work / "data" / "test.jsonl")) == 20


def test_export_writes_the_contract_files(exported):
    _, out = exported
    for name in ("model_card.json", "tokenizer.json", "reference_outputs.jsonl", "export_config.json",
                 "saved_model/saved_model.pb", "eval/test_sweep_entropy.csv", "eval/test_evaluation.png",
                 "eval/dev_per_layer_accuracy.json"):
        assert (out / name).is_file(), name
    card = json.loads((out / "model_card.json").read_text())
    assert card["labels"] == ["0", "1"] and card["num_layers"] == 3 and card["hidden_size"] == 16
    assert card["name"] == "sst2-sample"
    assert card["recommended_threshold"]["chosen_on"] == "dev"
    assert len(card["per_layer_accuracy"]["test"]) == 3
    assert {r["threshold"] for r in card["sweep"]["test"]} >= {0.0}


def test_signatures_match_the_contract(exported):
    _, out = exported
    sigs = describe_signatures(out / "saved_model")
    assert set(sigs) == {"embed", "layer_1", "layer_2", "layer_3", "serving_default"}
    assert sigs["embed"]["inputs"] == {"attention_mask": {"dtype": "int32", "shape": [-1, -1]},
                                       "input_ids": {"dtype": "int32", "shape": [-1, -1]}}
    assert sigs["embed"]["outputs"] == {"hidden": {"dtype": "float32", "shape": [-1, -1, 16]}}
    assert sigs["layer_2"]["inputs"]["hidden"] == {"dtype": "float32", "shape": [-1, -1, 16]}
    assert sigs["layer_2"]["outputs"] == {"entropy": {"dtype": "float32", "shape": [-1]},
                                          "hidden_out": {"dtype": "float32", "shape": [-1, -1, 16]},
                                          "logits": {"dtype": "float32", "shape": [-1, 2]},
                                          "probs": {"dtype": "float32", "shape": [-1, 2]}}
    assert sigs["serving_default"]["outputs"] == {"all_logits": {"dtype": "float32", "shape": [-1, 3, 2]}}
    card = json.loads((out / "model_card.json").read_text())
    assert card["signatures"] == sigs
    assert card["input"] == {"text_pair": False}   # a single-text model: embed takes no token_type_ids


def test_exported_signatures_layer_by_layer_equal_the_python_model(exported):
    work, out = exported
    model, record = pipeline.load_trained(work, tf.float16)   # the weights as exported
    tok = load_tokenizer(out / "tokenizer.json", record["train_config"]["max_seq_length"])
    texts = [e.text for e in read_jsonl(work / "data" / "test.jsonl")[:12]]
    ids, mask = pad_batch(encode(tok, texts))
    python = model.all_logits(ids, mask).numpy()
    session = run_session_style(out / "saved_model", ids, mask, model.num_layers)
    np.testing.assert_allclose(session, python, atol=1e-5)
    # the TF2 loader's signatures give the same, including entropy = -sum p ln p
    loaded = tf.saved_model.load(str(out / "saved_model"))
    h = loaded.signatures["embed"](input_ids=tf.constant(ids), attention_mask=tf.constant(mask))["hidden"]
    r = loaded.signatures["layer_1"](hidden=h, attention_mask=tf.constant(mask))
    p = r["probs"].numpy()
    np.testing.assert_allclose(r["entropy"].numpy(), -(p * np.log(p)).sum(-1), atol=1e-5)
    np.testing.assert_allclose(r["logits"].numpy(), python[:, 0, :], atol=1e-5)


def test_reference_outputs_cover_the_test_split(exported):
    work, out = exported
    test = read_jsonl(work / "data" / "test.jsonl")
    lines = [json.loads(x) for x in (out / "reference_outputs.jsonl").read_text().splitlines()]
    assert [x["id"] for x in lines] == [e.id for e in test]
    assert all(np.array(x["logits"]).shape == (3, 2) for x in lines)
    assert all(1 <= x["num_tokens"] <= 24 and len(x["token_ids"]) == x["num_tokens"] for x in lines)
    assert all(x["token_ids"][0] == 101 and x["token_ids"][-1] == 102 for x in lines)  # [CLS] ... [SEP]


def test_float16_storage_cost_is_recorded(exported):
    _, out = exported
    weights = json.loads((out / "model_card.json").read_text())["weights"]
    assert weights["stored_dtype"] == "float16"
    assert 0 <= weights["max_abs_logit_difference"] < 1e-2


def test_export_stores_float32_weights_and_a_float16_word_table(exported):
    # The graph must not cast whole weight matrices on every call: only the gathered table rows are cast.
    _, out = exported
    reader = tf.train.load_checkpoint(str(out / "saved_model" / "variables" / "variables"))
    dtypes = {k: v for k, v in reader.get_variable_to_dtype_map().items() if k.startswith("model/")}
    assert dtypes.pop("model/embeddings/word_embeddings/.ATTRIBUTES/VARIABLE_VALUE") == tf.float16
    assert dtypes and set(dtypes.values()) == {tf.float32}
    card = json.loads((out / "model_card.json").read_text())
    assert card["weights"]["storage"] == {"word_embeddings": "float16", "other": "float32", "fused_qkv": True}
    assert "model/layers/0/attention/query_key_value/kernel/.ATTRIBUTES/VARIABLE_VALUE" in dtypes


def test_reexport_keeps_the_weights_and_matches_the_reference_outputs(exported, tmp_path):
    import shutil
    _, out = exported
    copy = tmp_path / "model"
    shutil.copytree(out, copy)
    reader = tf.train.load_checkpoint(str(copy / "saved_model" / "variables" / "variables"))
    before = {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map() if k.startswith("model/")}
    del reader  # the re-export replaces the files it reads
    assert main(["reexport", "--model-dir", str(copy)]) == 0
    after = tf.train.load_checkpoint(str(copy / "saved_model" / "variables" / "variables"))
    for name, value in before.items():
        np.testing.assert_array_equal(after.get_tensor(name), value, err_msg=name)
    card = json.loads((copy / "model_card.json").read_text())
    assert card["parity"]["session_loader_max_abs_logit_diff"] <= 1e-4
    # same values, so the same weights hash and version
    original = json.loads((out / "model_card.json").read_text())
    assert card["weights"]["sha256"] == original["weights"]["sha256"] and card["version"] == original["version"]
    assert "reexport_command" in json.loads((copy / "export_config.json").read_text())


def test_reexport_refuses_a_model_whose_weights_disagree_with_its_reference_outputs(exported, tmp_path):
    import shutil
    _, out = exported
    copy = tmp_path / "model"
    shutil.copytree(out, copy)
    lines = (copy / "reference_outputs.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["logits"][0][0] += 1.0
    (copy / "reference_outputs.jsonl").write_text("\n".join([json.dumps(first)] + lines[1:]) + "\n")
    original = (copy / "saved_model" / "saved_model.pb").read_bytes()
    with pytest.raises(RuntimeError, match="disagree"):
        pipeline.reexport(copy)
    assert (copy / "saved_model" / "saved_model.pb").read_bytes() == original
