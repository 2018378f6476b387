"""RoBERTa-family checkpoints (``model_type`` "roberta"): config, position ids, weight names, and the
whole pipeline on a tiny random-init RoBERTa with a real byte-level BPE tokenizer trained on the
committed SST-2 sample (:func:`support.tiny_checkpoints.write_tiny_roberta_checkpoint`)."""
from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf
from safetensors.numpy import load_file, save_file

from deebert_export import cli
from deebert_export.checkpoint import CheckpointError, load_checkpoint
from deebert_export.data import read_jsonl
from deebert_export.export import describe_signatures, run_session_style
from deebert_export.model import BertConfig, DeeBertModel, roberta_position_ids
from deebert_export.tokenization import encode, load_tokenizer, pad_batch

from support.tiny_checkpoints import TINY_ROBERTA_CONFIG, write_tiny_roberta_checkpoint

ROBERTA_PAD_ID = 1


def _sst2_texts(sample_dir) -> list[str]:
    texts = []
    for name in ("train.tsv", "dev.tsv"):
        with open(sample_dir / name, encoding="utf-8", newline="") as f:
            texts += [row["sentence"] for row in csv.DictReader(f, delimiter="\t")]
    return texts


def _hugging_face_position_ids(input_ids: np.ndarray, padding_idx: int) -> np.ndarray:
    """The rule of transformers' create_position_ids_from_input_ids, written out here in numpy as the
    independent reference: padding is found by id, real tokens count up from padding_idx + 1."""
    real = (input_ids != padding_idx).astype(np.int64)
    return np.cumsum(real, axis=1) * real + padding_idx


def _pad_with(ids: list[list[int]], pad_id: int, extra_columns: int = 0) -> tuple[np.ndarray, np.ndarray]:
    T = max(len(x) for x in ids) + extra_columns
    input_ids = np.full((len(ids), T), pad_id, np.int32)
    mask = np.zeros((len(ids), T), np.int32)
    for r, x in enumerate(ids):
        input_ids[r, :len(x)] = x
        mask[r, :len(x)] = 1
    return input_ids, mask


@pytest.fixture(scope="module")
def roberta_ckpt(tmp_path_factory, sst2_sample_dir):
    return write_tiny_roberta_checkpoint(tmp_path_factory.mktemp("roberta") / "ckpt", _sst2_texts(sst2_sample_dir))


@pytest.fixture(scope="module")
def roberta_model(roberta_ckpt):
    model, provenance = load_checkpoint(roberta_ckpt, num_labels=2)
    return model, provenance


@pytest.fixture(scope="module")
def sentences(roberta_ckpt, sst2_sample_dir) -> list[list[int]]:
    """Token ids of 12 real SST-2 sentences of different lengths (so a batch of them is padded)."""
    tok = load_tokenizer(roberta_ckpt / "tokenizer.json", 40)
    texts = sorted(_sst2_texts(sst2_sample_dir)[:60], key=len)[::5]
    ids = encode(tok, texts)
    assert len({len(x) for x in ids}) > 5
    return ids


# ------------------------------------------------------------------------------------------ config
def test_config_accepts_roberta_and_records_type_and_pad_id():
    cfg = BertConfig.from_dict(dict(TINY_ROBERTA_CONFIG, vocab_size=400))
    assert (cfg.model_type, cfg.pad_token_id, cfg.type_vocab_size) == ("roberta", 1, 1)
    assert cfg.max_positions == 66 - 1 - 1
    assert cfg.to_dict()["model_type"] == "roberta" and cfg.to_dict()["pad_token_id"] == 1
    # a RoBERTa config.json without pad_token_id gets transformers' RobertaConfig default, 1
    no_pad = {k: v for k, v in TINY_ROBERTA_CONFIG.items() if k != "pad_token_id"}
    assert BertConfig.from_dict(dict(no_pad, vocab_size=400)).pad_token_id == 1
    # BERT configs, old ones without model_type included, keep BERT's positions
    bert = BertConfig.from_dict({"vocab_size": 9, "hidden_size": 4, "num_hidden_layers": 1, "num_attention_heads": 1,
                                 "intermediate_size": 8, "max_position_embeddings": 64})
    assert (bert.model_type, bert.pad_token_id, bert.max_positions) == ("bert", 0, 64)
    with pytest.raises(ValueError, match="leaves no position after padding_idx 1"):
        BertConfig.from_dict(dict(TINY_ROBERTA_CONFIG, vocab_size=400, max_position_embeddings=2))
    with pytest.raises(ValueError, match="unsupported model_type 'xlm-roberta'"):
        BertConfig.from_dict(dict(TINY_ROBERTA_CONFIG, vocab_size=400, model_type="xlm-roberta"))


# ----------------------------------------------------------------------------------- position ids
@pytest.mark.parametrize("padding_idx", [1, 0, 5])
def test_position_ids_follow_hugging_faces_rule_on_padded_batches(sentences, padding_idx):
    # Hugging Face pads with the pad id and finds padding by id; ours reads the mask.
    input_ids, mask = _pad_with([[t + 10 for t in x] for x in sentences], padding_idx, extra_columns=3)
    ours = roberta_position_ids(tf.constant(mask), padding_idx).numpy()
    np.testing.assert_array_equal(ours, _hugging_face_position_ids(input_ids, padding_idx))
    assert ours.dtype == np.int32 and ours.shape == input_ids.shape
    first_row = ours[0]
    assert first_row[0] == padding_idx + 1 and first_row[len(sentences[0]) - 1] == padding_idx + len(sentences[0])
    assert (first_row[len(sentences[0]):] == padding_idx).all()


def test_embeddings_use_position_rows_from_padding_idx_plus_one(roberta_model, sentences):
    model, _ = roberta_model
    ids = np.array([sentences[0]], np.int32)
    ev = {k: v.numpy() for k, v in model.embeddings.named_variables().items()}
    L = ids.shape[1]
    x = ev["word_embeddings"][ids[0]] + ev["position_embeddings"][2:2 + L] + ev["token_type_embeddings"][0]
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * ev["layer_norm/gamma"] + ev["layer_norm/beta"]
    got = model.embed(ids, attention_mask=np.ones_like(ids)).numpy()[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    with pytest.raises(ValueError, match="needs attention_mask"):
        model.embed(ids)


def test_results_do_not_depend_on_the_pad_id_or_the_batch_padding(roberta_model, sentences):
    model, _ = roberta_model
    alone = np.concatenate([model.all_logits(*_pad_with([x], 0)).numpy() for x in sentences])
    vocab = model.config.vocab_size
    for pad_id, extra in ((0, 0), (ROBERTA_PAD_ID, 0), (vocab - 1, 4)):
        batch = model.all_logits(*_pad_with(sentences, pad_id, extra_columns=extra)).numpy()
        np.testing.assert_allclose(batch, alone, atol=1e-5, err_msg=f"pad id {pad_id}, {extra} extra columns")
    # and they do depend on the offset: the same weights with BERT's positions 0..T-1 give other logits
    bert = DeeBertModel(dataclasses.replace(model.config, model_type="bert"), model.num_labels)
    bert.copy_weights_from(model)
    assert np.abs(bert.all_logits(*_pad_with(sentences, 0)).numpy() - alone).max() > 1e-3


# ------------------------------------------------------------------------------------- checkpoints
def test_checkpoint_loads_roberta_names_without_a_pooler(roberta_ckpt, roberta_model):
    model, provenance = roberta_model
    w = load_file(str(roberta_ckpt / "model.safetensors"))
    assert (model.config.model_type, model.config.pad_token_id) == ("roberta", 1)
    np.testing.assert_array_equal(model.embeddings.position_embeddings.numpy(),
                                  w["roberta.embeddings.position_embeddings.weight"])
    np.testing.assert_array_equal(model.embeddings.token_type_embeddings.numpy(),
                                  w["roberta.embeddings.token_type_embeddings.weight"])
    np.testing.assert_array_equal(model.layers[2].attention.value.kernel.numpy(),
                                  w["roberta.encoder.layer.2.attention.self.value.weight"].T)
    assert not provenance["pooler_from_checkpoint"] and "off-ramp poolers" in provenance["new_weights"]
    assert provenance["config"]["model_type"] == "roberta"


def test_checkpoint_loads_a_bare_roberta_model_with_its_pooler(roberta_ckpt, tmp_path):
    # RobertaModel saves no prefix and keeps its pooler
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (bare / name).write_bytes((roberta_ckpt / name).read_bytes())
    w = {k[len("roberta."):]: v for k, v in load_file(str(roberta_ckpt / "model.safetensors")).items()
         if k.startswith("roberta.")}
    H = TINY_ROBERTA_CONFIG["hidden_size"]
    w["pooler.dense.weight"] = np.arange(H * H, dtype=np.float32).reshape(H, H) / (H * H)
    w["pooler.dense.bias"] = np.full(H, 0.5, np.float32)
    save_file(w, str(bare / "model.safetensors"))
    model, provenance = load_checkpoint(bare, num_labels=3)
    assert provenance["pooler_from_checkpoint"]
    for ramp in model.off_ramps:
        np.testing.assert_array_equal(ramp.pooler.kernel.numpy(), w["pooler.dense.weight"].T)
    np.testing.assert_array_equal(model.embeddings.word_embeddings.numpy(), w["embeddings.word_embeddings.weight"])


def test_tokenizer_wraps_texts_in_s_and_slash_s(roberta_ckpt):
    tok = load_tokenizer(roberta_ckpt / "tokenizer.json", 8)
    ids = encode(tok, ["a long enough sentence to be truncated at eight tokens", "ok"])
    assert [x[0] for x in ids] == [0, 0] and [x[-1] for x in ids] == [2, 2]   # <s> ... </s>
    assert len(ids[0]) == 8
    # byte-level BPE has no unknown token: any text round-trips
    text = "Grüße ☕ 東京"
    tok.no_truncation()
    assert tok.decode(tok.encode(text).ids) == text


# ------------------------------------------------------------------------------------ the pipeline
@pytest.fixture(scope="module")
def roberta_run(tmp_path_factory, roberta_ckpt, sst2_sample_dir):
    """``run`` (prepare -> two-stage training -> evaluate -> export) from the tiny RoBERTa checkpoint."""
    tmp = tmp_path_factory.mktemp("roberta-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEEBERT_BUILD_DIR", str(tmp / "build"))
        rc = cli.main(["run", "--train-file", str(sst2_sample_dir / "train.tsv"), "--name", "sst2-roberta",
                       "--checkpoint", str(roberta_ckpt), "--max-seq-length", "32", "--batch-size", "16",
                       "--max-train-examples", "64", "--stage2-epochs", "2", "--max-eval-examples", "16",
                       "--allow-weak-labels"])   # a tiny random-init model: see test_pipeline.first_run
    assert rc == 0
    work = tmp / "build" / "sst2-roberta"
    return work, work / "model"


def test_roberta_checkpoint_trains_and_exports_through_the_pipeline(roberta_run, roberta_ckpt):
    work, out = roberta_run
    card = json.loads((out / "model_card.json").read_text())
    assert card["backbone"]["config"]["model_type"] == "roberta" and card["backbone"]["config"]["pad_token_id"] == 1
    assert card["training"]["stage1"]["steps"] > 0 and card["training"]["stage2"]["steps"] > 0
    assert np.isfinite(card["training"]["stage1"]["final_loss"])
    # the same signatures as for BERT: the runtime needs no change
    sigs = describe_signatures(out / "saved_model")
    assert sigs["embed"]["inputs"] == {"attention_mask": {"dtype": "int32", "shape": [-1, -1]},
                                       "input_ids": {"dtype": "int32", "shape": [-1, -1]}}
    assert card["signatures"] == sigs
    exported_tokenizer = json.loads((out / "tokenizer.json").read_text())
    assert exported_tokenizer == json.loads(load_tokenizer(roberta_ckpt / "tokenizer.json", 32).to_str())
    assert exported_tokenizer["model"]["type"] == "BPE" and exported_tokenizer["post_processor"]["type"] == "RobertaProcessing"
    # training changed the encoder: stage 1 ran on it
    from deebert_export import pipeline
    trained, _ = pipeline.load_trained(work, tf.float32)
    start, _ = load_checkpoint(roberta_ckpt, num_labels=2)
    assert not np.array_equal(trained.layers[0].attention.query.kernel.numpy(), start.layers[0].attention.query.kernel.numpy())


def test_exported_roberta_runs_layer_by_layer_like_its_reference_outputs(roberta_run):
    work, out = roberta_run
    refs = [json.loads(line) for line in (out / "reference_outputs.jsonl").read_text().splitlines()]
    tok = load_tokenizer(out / "tokenizer.json", 32)
    texts = [e.text for e in read_jsonl(work / "data" / "test.jsonl")]
    ids = encode(tok, texts)
    assert [r["token_ids"] for r in refs] == ids
    assert all(x[0] == 0 and x[-1] == 2 for x in ids) and len({len(x) for x in ids}) > 1
    # padded with id 0 (as Java pads), the whole test split in one batch, through the C-API-style loader
    x, m = pad_batch(ids)
    session = run_session_style(out / "saved_model", x, m, 3)
    np.testing.assert_allclose(session, np.array([r["logits"] for r in refs]), atol=1e-4)


def test_training_refuses_a_sequence_length_past_the_position_table(roberta_ckpt, sst2_sample_dir, tmp_path, capsys):
    # 64 positions (rows 2..65 of 66): 64 tokens fit, 65 would index past the table
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEEBERT_BUILD_DIR", str(tmp_path / "build"))
        rc = cli.main(["run", "--train-file", str(sst2_sample_dir / "train.tsv"), "--name", "too-long",
                       "--checkpoint", str(roberta_ckpt), "--max-seq-length", "65"])
    assert rc == 2
    assert "max_seq_length 65 exceeds the 64 positions" in capsys.readouterr().err
    assert not (tmp_path / "build" / "too-long" / "train").exists()


def test_reexport_rebuilds_a_roberta_model_from_its_card(roberta_run, tmp_path):
    # load_exported_model reads model_type and pad_token_id back from the card's backbone.config: with
    # BERT's positions the re-exported signatures would miss the reference outputs and reexport refuse.
    import shutil
    from deebert_export.export import load_exported_model
    _, out = roberta_run
    copy = tmp_path / "model"
    shutil.copytree(out, copy)
    rebuilt = load_exported_model(copy)
    assert (rebuilt.config.model_type, rebuilt.config.pad_token_id) == ("roberta", 1)
    assert cli.main(["reexport", "--model-dir", str(copy)]) == 0
    assert json.loads((copy / "model_card.json").read_text())["parity"]["session_loader_max_abs_logit_diff"] <= 1e-4
