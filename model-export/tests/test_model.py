"""Unit tests of the DeeBERT model, the two training stages and the evaluation maths (tiny random config)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from deebert_export import exits
from deebert_export import selection as sel
from deebert_export.checkpoint import CheckpointError, load_checkpoint
from deebert_export.model import BertConfig, DeeBertModel
from deebert_export.train import TrainConfig, cache_cls_vectors, train_stage1, train_stage2

from support.tiny_checkpoints import write_tiny_checkpoint

TINY = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=37,
                  max_position_embeddings=64)


def _batch(rng, B=4, T=10):
    ids = rng.integers(1, 99, size=(B, T)).astype(np.int32)
    mask = np.ones((B, T), np.int32)
    mask[0, 6:] = 0  # one padded row
    return ids, mask


def test_forward_shapes_follow_the_docstrings():
    model = DeeBertModel(TINY, num_labels=3)
    ids, mask = _batch(np.random.default_rng(0))
    hidden = model.embed(ids)
    assert hidden.shape == (4, 10, 32)
    assert model.layer(0, hidden, mask).shape == (4, 10, 32)
    assert model.off_ramp(0, hidden[:, 0, :]).shape == (4, 3)
    assert model.encode_cls(ids, mask).shape == (4, 3, 32)
    assert model.all_logits(ids, mask).shape == (4, 3, 3)


def test_padding_does_not_change_the_result():
    model = DeeBertModel(TINY, num_labels=2)
    ids, _ = _batch(np.random.default_rng(1), B=1, T=6)
    short = model.all_logits(ids, np.ones_like(ids)).numpy()
    padded_ids = np.concatenate([ids, np.zeros((1, 5), np.int32)], axis=1)
    padded_mask = np.concatenate([np.ones_like(ids), np.zeros((1, 5), np.int32)], axis=1)
    np.testing.assert_allclose(model.all_logits(padded_ids, padded_mask).numpy(), short, atol=1e-5)


def test_entropy_equals_minus_sum_p_ln_p():
    logits = np.random.default_rng(2).normal(size=(50, 4)).astype(np.float32) * 3
    logits[0] = [100.0, -100.0, -100.0, -100.0]  # p = 0 entries must not give NaN
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = -np.nansum(p * np.log(p), axis=-1)
    # the TF op the SavedModel exports and the numpy one the evaluation uses are the same function
    np.testing.assert_allclose(exits.entropy_tf(tf.constant(logits)).numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(exits.entropy(logits), expected, atol=1e-5)
    assert exits.entropy(np.zeros((1, 4)))[0] == pytest.approx(math.log(4))


def test_stage2_leaves_every_stage1_weight_bit_identical():
    model = DeeBertModel(TINY, num_labels=2, seed=3)
    rng = np.random.default_rng(3)
    ids = [list(rng.integers(1, 99, size=rng.integers(3, 12))) for _ in range(24)]
    labels = rng.integers(0, 2, size=24).astype(np.int32)
    cfg = TrainConfig(batch_size=8, stage1_epochs=1, stage2_epochs=3, stage2_batch_size=8)
    train_stage1(model, ids, labels, cfg)
    n = model.num_layers
    stage1_weights = {v.name: v.numpy().copy() for v in model.encoder_variables() + model.off_ramp_variables([n - 1])}
    ramps_before = [v.numpy().copy() for v in model.off_ramp_variables(range(n - 1))]

    train_stage2(model, cache_cls_vectors(model, ids), labels, cfg)

    for v in model.encoder_variables() + model.off_ramp_variables([n - 1]):
        assert np.array_equal(v.numpy(), stage1_weights[v.name]), f"stage 2 changed stage-1 weight {v.name}"
    changed = [not np.array_equal(a, v.numpy()) for a, v in zip(ramps_before, model.off_ramp_variables(range(n - 1)))]
    assert all(changed), "stage 2 must train every off-ramp 1..n-1"


def test_stage1_changes_encoder_and_last_off_ramp_only():
    model = DeeBertModel(TINY, num_labels=2, seed=4)
    before = [v.numpy().copy() for v in model.off_ramp_variables(range(model.num_layers - 1))]
    emb = model.embeddings.word_embeddings.numpy().copy()
    rng = np.random.default_rng(4)
    ids = [list(rng.integers(1, 99, size=8)) for _ in range(16)]
    train_stage1(model, ids, rng.integers(0, 2, size=16).astype(np.int32), TrainConfig(batch_size=8))
    assert not np.array_equal(emb, model.embeddings.word_embeddings.numpy())
    for a, v in zip(before, model.off_ramp_variables(range(model.num_layers - 1))):
        assert np.array_equal(a, v.numpy())


def test_checkpoint_loads_hugging_face_layout_and_rejects_bad_dirs(tmp_path):
    ckpt = write_tiny_checkpoint(tmp_path / "ckpt")
    model, provenance = load_checkpoint(ckpt, num_labels=2)
    assert provenance["pooler_from_checkpoint"]
    from safetensors.numpy import load_file
    w = load_file(str(ckpt / "model.safetensors"))
    # PyTorch (out, in) -> our (in, out)
    np.testing.assert_array_equal(model.layers[1].attention.query.kernel.numpy(),
                                  w["encoder.layer.1.attention.self.query.weight"].T)
    with pytest.raises(CheckpointError, match="missing model.safetensors"):
        (ckpt / "model.safetensors").unlink()
        load_checkpoint(ckpt, 2)
    (tmp_path / "gpt").mkdir()
    (tmp_path / "gpt" / "config.json").write_text('{"model_type": "gpt2"}')
    (tmp_path / "gpt" / "model.safetensors").write_bytes(b"")
    with pytest.raises(CheckpointError, match="unsupported model_type 'gpt2'"):
        load_checkpoint(tmp_path / "gpt", 2)


# --------------------------------------------------------------------------------- evaluation maths
def test_sweep_reports_accuracy_histogram_and_saving():
    confident, unsure = [0.0, 6.0], [0.0, 0.01]   # entropy ~0.0067 / ~0.69 nats, class 1
    logits = np.array([[confident] * 3, [unsure, confident, confident], [unsure] * 3], np.float32)
    logits[2, :, :] = [[0.0, 0.01], [0.0, 0.01], [6.0, 0.0]]   # third input is class 0, only the last layer knows
    rows = sel.sweep(logits, np.array([1, 1, 0]), [0.0, 0.1, 0.7])
    assert [r["exit_histogram"] for r in rows] == [[0, 0, 3], [1, 1, 1], [3, 0, 0]]
    assert [r["accuracy"] for r in rows] == pytest.approx([1.0, 1.0, 2 / 3])
    assert rows[1]["expected_saving"] == pytest.approx(1 - 6 / 9)


def test_recommended_threshold_is_chosen_on_dev_within_the_accuracy_budget():
    dev = [{"policy": "entropy", "threshold": s, "accuracy": a, "expected_saving": e}
           for s, a, e in [(0.0, 0.99, 0.0), (0.1, 0.989, 0.3), (0.2, 0.985, 0.5), (0.3, 0.95, 0.7)]]
    rec = sel.recommend_threshold(dev, dev_last_accuracy=0.99, max_accuracy_loss_pt=0.25)
    assert rec["value"] == 0.1 and rec["chosen_on"] == "dev"


def test_fused_qkv_layout_gives_the_same_outputs_as_separate_projections():
    from deebert_export.export import as_stored_dtype
    model = DeeBertModel(TINY, num_labels=2, seed=5)
    fused = as_stored_dtype(model, tf.float32, fused_qkv=True)
    names = fused.named_variables()
    assert fused.fused_qkv and "layers/0/attention/query_key_value/kernel" in names
    assert "layers/0/attention/query/kernel" not in names
    np.testing.assert_array_equal(names["layers/0/attention/query_key_value/kernel"].numpy()[:, :TINY.hidden_size],
                                  model.layers[0].attention.query.kernel.numpy())
    ids = tf.constant([[11, 7, 8, 9, 12, 0], [11, 5, 12, 0, 0, 0]], tf.int32)
    mask = tf.cast(ids > 0, tf.int32)
    np.testing.assert_allclose(fused.all_logits(ids, mask).numpy(), model.all_logits(ids, mask).numpy(), atol=1e-6)
