"""Training regimes (two-stage, joint, bypass) and the BADGE-style off-ramp bypasses
(``docs/badge-bypass.md``): the config rules, the bypass maths, the gradient damping, one-stage
training, and the whole CLI run -> export for the joint and bypass regimes on a tiny random-init
checkpoint with real SST-2 text (the committed sample)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from deebert_export import pipeline
from deebert_export.cli import main
from deebert_export.config import BYPASS, JOINT, TWO_STAGE, TrainConfig
from deebert_export.data import read_jsonl
from deebert_export.export import as_stored_dtype, for_inference, load_exported_model, run_session_style
from deebert_export.model import BertConfig, DeeBertModel
from deebert_export.tokenization import encode, load_tokenizer, pad_batch
from deebert_export.train import off_ramp_losses, scale_gradient, train_joint

from support.tiny_checkpoints import write_tiny_checkpoint

TINY = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=37,
                  max_position_embeddings=64)
BYPASS_KEYS = {"bypass/down/kernel", "bypass/down/bias", "bypass/up/kernel", "bypass/up/bias"}


def _batch(seed=0, B=6, T=9):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 99, size=(B, T)).astype(np.int32)
    mask = np.ones((B, T), np.int32)
    mask[0, 5:] = 0
    return tf.constant(ids), tf.constant(mask), tf.constant(rng.integers(0, 2, size=B).astype(np.int32))


def _with_nonzero_bypass(seed=1, rank=4):
    """A bypass model whose bypasses are not the identity (W_up starts at zero)."""
    model = DeeBertModel(TINY, num_labels=2, seed=seed, off_ramp_bypass_rank=rank)
    rng = np.random.default_rng(seed)
    for v in model.bypass_variables():
        v.assign(rng.normal(0, 0.3, size=v.shape).astype(np.float32))
    return model


# ------------------------------------------------------------------------------------ config rules
def test_default_regime_is_two_stage_without_bypass():
    cfg = TrainConfig()
    assert cfg.regime == TWO_STAGE and cfg.off_ramp_bypass_rank == 0
    assert TrainConfig(regime=BYPASS, bypass_rank=8).off_ramp_bypass_rank == 8
    assert TrainConfig(regime=JOINT).off_ramp_bypass_rank == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"regime": "badge"}, "choose one of two-stage, joint, bypass"),
    ({"regime": BYPASS, "bypass_beta": 1.5}, "must be in"),
    ({"regime": BYPASS, "bypass_rank": 0}, "must be >= 1"),
    ({"bypass_beta": 0.5}, "has no effect with regime 'two-stage'"),
    ({"regime": JOINT, "bypass_rank": 8}, "has no effect with regime 'joint'"),
    ({"regime": JOINT, "stage2_epochs": 3}, "has no effect with regime 'joint'"),
    ({"joint_off_ramp_learning_rate": 0.1}, "has no effect with regime 'two-stage'"),
])
def test_config_refuses_bad_values_and_options_the_regime_ignores(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_cli_refuses_a_bypass_option_without_the_bypass_regime_in_one_line(tmp_path, capsys):
    rc = main(["train", "--work-dir", str(tmp_path / "w"), "--regime", "joint", "--bypass-beta", "0.5"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "bypass_beta = 0.5 has no effect with regime 'joint'" in err[0]
    with pytest.raises(SystemExit) as e:
        main(["train", "--work-dir", str(tmp_path / "w"), "--regime", "badge"])
    assert e.value.code == 2


# ------------------------------------------------------------------------------------- bypass maths
def test_models_without_bypass_draw_the_same_initial_weights_as_before():
    plain, with_bypass = DeeBertModel(TINY, 2, seed=5), DeeBertModel(TINY, 2, seed=5, off_ramp_bypass_rank=4)
    assert plain.bypass_variables() == [] and not any(k.startswith("off_ramps/2/bypass") for k in with_bypass.named_variables())
    mine = with_bypass.named_variables()
    for name, v in plain.named_variables().items():
        np.testing.assert_array_equal(mine[name].numpy(), v.numpy(), err_msg=name)
    assert {k.split("/", 2)[2] for k in mine if "bypass" in k} == BYPASS_KEYS
    assert mine["off_ramps/0/bypass/down/kernel"].shape == (32, 4)
    assert mine["off_ramps/1/bypass/up/kernel"].shape == (4, 32)


def test_a_new_bypass_is_the_identity_and_a_trained_one_follows_its_formula():
    ids, mask, _ = _batch()
    plain, fresh = DeeBertModel(TINY, 2, seed=5), DeeBertModel(TINY, 2, seed=5, off_ramp_bypass_rank=4)
    np.testing.assert_array_equal(fresh.all_logits(ids, mask).numpy(), plain.all_logits(ids, mask).numpy())
    model = _with_nonzero_bypass()
    h = tf.random.stateless_normal((5, 32), seed=(1, 2))
    ov = {k.split("/", 2)[2]: v.numpy() for k, v in model.named_variables().items() if k.startswith("off_ramps/1/")}
    gelu = lambda x: tf.nn.gelu(x).numpy()
    expected = (h.numpy() + gelu(h.numpy() @ ov["bypass/down/kernel"] + ov["bypass/down/bias"]) @ ov["bypass/up/kernel"]
                + ov["bypass/up/bias"])
    np.testing.assert_allclose(model.bypass(1, h).numpy(), expected, atol=1e-5)
    # the off-ramp runs the bypass before its pooler; the last off-ramp (original classifier) has none
    pooled = np.tanh(expected @ ov["pooler/kernel"] + ov["pooler/bias"])
    np.testing.assert_allclose(model.off_ramp(1, h).numpy(), pooled @ ov["classifier/kernel"] + ov["classifier/bias"],
                               atol=1e-5)
    with pytest.raises(KeyError):
        model.bypass(2, h)


def test_copy_weights_keeps_new_bypasses_only_when_asked_and_float16_copies_keep_them():
    plain = DeeBertModel(TINY, 2, seed=6)
    target = DeeBertModel(TINY, 2, seed=7, off_ramp_bypass_rank=4)
    with pytest.raises(KeyError):
        target.copy_weights_from(plain)
    fresh_bypass = [v.numpy().copy() for v in target.bypass_variables()]
    target.copy_weights_from(plain, keep_new_bypasses=True)
    for name, v in plain.named_variables().items():
        np.testing.assert_array_equal(target.named_variables()[name].numpy(), v.numpy(), err_msg=name)
    for a, v in zip(fresh_bypass, target.bypass_variables()):
        np.testing.assert_array_equal(a, v.numpy())
    model = _with_nonzero_bypass()
    half = as_stored_dtype(model, tf.float16)
    assert half.off_ramp_bypass_rank == 4 and len(half.bypass_variables()) == 4 * 2
    ids, mask, _ = _batch()
    np.testing.assert_allclose(for_inference(half).all_logits(ids, mask).numpy(), half.all_logits(ids, mask).numpy(),
                               atol=1e-6)


# ------------------------------------------------------------------------------- gradient damping
def test_scale_gradient_is_the_identity_forward_and_scales_the_gradient():
    x = tf.constant([[1.5, -2.0, 3.25]])
    for beta in (0.0, 0.25, 1.0):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = scale_gradient(x, beta)
            loss = tf.reduce_sum(y * tf.constant([[1.0, 2.0, 3.0]]))
        np.testing.assert_array_equal(y.numpy(), x.numpy())
        np.testing.assert_allclose(tape.gradient(loss, x).numpy(), beta * np.array([[1.0, 2.0, 3.0]]))


def _early_and_last_gradients(model, beta):
    """Gradients of sum(L_1..L_{n-1}) and of L_n (no dropout) with respect to encoder and bypass weights."""
    ids, mask, y = _batch(3)
    variables = model.encoder_variables() + model.bypass_variables()
    with tf.GradientTape(persistent=True) as tape:
        losses = off_ramp_losses(model, ids, mask, y, beta=beta, training=False)
        early, last = tf.add_n(losses[:-1]), losses[-1]
    grad = lambda loss: [None if g is None else tf.convert_to_tensor(g).numpy()
                         for g in tape.gradient(loss, variables)]
    n_enc = len(model.encoder_variables())
    e, l = grad(early), grad(last)
    return e[:n_enc], e[n_enc:], l[:n_enc]


def test_beta_zero_cuts_the_early_off_ramps_gradient_into_the_encoder():
    model = _with_nonzero_bypass()
    early_enc, early_bypass, last_enc = _early_and_last_gradients(model, beta=0.0)
    assert all(g is None or not np.any(g) for g in early_enc), "L_1..L_{n-1} must not reach the encoder at beta=0"
    assert all(g is not None and np.any(g) for g in early_bypass), "the bypasses learn from their off-ramp's loss"
    # the last off-ramp (original classifier) still trains the encoder: every layer but the word table's
    # unused rows gets a gradient
    assert sum(g is not None and np.any(g) for g in last_enc) == len(last_enc)


def test_beta_scales_the_early_off_ramps_gradient_into_the_encoder_linearly():
    model = _with_nonzero_bypass()
    full, full_bypass, _ = _early_and_last_gradients(model, beta=1.0)
    damped, damped_bypass, _ = _early_and_last_gradients(model, beta=0.25)
    for g1, g025 in zip(full, damped):
        if g1 is None:
            assert g025 is None
        else:
            np.testing.assert_allclose(g025, 0.25 * g1, rtol=1e-4, atol=1e-9)
    for g1, g025 in zip(full_bypass, damped_bypass):   # the off-ramp's own weights are not damped
        np.testing.assert_allclose(g025, g1, rtol=1e-5, atol=1e-9)
    assert any(g is not None and np.any(g) for g in full)


# -------------------------------------------------------------------------------- one-stage training
def _tiny_data(seed=8, N=24):
    rng = np.random.default_rng(seed)
    ids = [list(rng.integers(1, 99, size=rng.integers(3, 12))) for _ in range(N)]
    return ids, rng.integers(0, 2, size=N).astype(np.int32)


@pytest.mark.parametrize("regime", [JOINT, BYPASS])
def test_one_stage_regimes_train_the_encoder_and_every_off_ramp(regime):
    cfg = TrainConfig(regime=regime, batch_size=8, **({"bypass_rank": 4} if regime == BYPASS else {}))
    model = DeeBertModel(TINY, 2, seed=9, off_ramp_bypass_rank=cfg.off_ramp_bypass_rank)
    before = {k: v.numpy().copy() for k, v in model.named_variables().items()}
    ids, labels = _tiny_data()
    stats = train_joint(model, ids, labels, cfg)
    assert stats["steps"] == 3 and len(stats["final_loss_per_off_ramp"]) == 3
    assert stats["gradient_scale_beta"] == (cfg.bypass_beta if regime == BYPASS else 1.0)
    unchanged = [k for k, v in model.named_variables().items()
                 if np.array_equal(v.numpy(), before[k])]
    assert unchanged == [], unchanged
    assert (regime == BYPASS) == bool(model.bypass_variables())
    for v in model.bypass_variables():
        if "up_w" in v.name:
            assert np.any(v.numpy()), f"{v.name} must leave zero"


def test_one_stage_regimes_feed_token_types_and_the_mask_to_the_embeddings():
    """Pairs (token types) and RoBERTa (positions from the mask) train in the one-stage regimes too: the
    losses change with the token types, a RoBERTa model gets its mask, and train_joint takes token types."""
    ids = tf.constant([[5, 6, 7, 8, 0, 0], [9, 10, 11, 12, 13, 14]], tf.int32)
    mask = tf.constant([[1, 1, 1, 1, 0, 0], [1] * 6], tf.int32)
    y = tf.constant([0, 1], tf.int32)
    bert = DeeBertModel(TINY, 2, seed=9)
    types = tf.constant([[0, 0, 1, 1, 0, 0], [0, 0, 0, 1, 1, 1]], tf.int32)
    single = off_ramp_losses(bert, ids, mask, y, training=False)
    paired = off_ramp_losses(bert, ids, mask, y, training=False, token_type_ids=types)
    assert not np.allclose([float(x) for x in single], [float(x) for x in paired])
    roberta = DeeBertModel(BertConfig.from_dict({**TINY.to_dict(), "model_type": "roberta", "pad_token_id": 1,
                                                 "type_vocab_size": 1}), 2, seed=9)
    # RoBERTa's embeddings raise without the mask (its position ids come from it): the losses need it passed.
    assert np.all(np.isfinite([float(x) for x in off_ramp_losses(roberta, ids, mask, y, training=False)]))
    with pytest.raises(ValueError, match="attention_mask"):
        roberta.embed(ids)
    cfg = TrainConfig(regime=JOINT, batch_size=8)
    model = DeeBertModel(TINY, 2, seed=9)
    tiny_ids, labels = _tiny_data()
    tiny_types = [[0] * (len(x) // 2) + [1] * (len(x) - len(x) // 2) for x in tiny_ids]
    stats = train_joint(model, tiny_ids, labels, cfg, tiny_types)
    assert stats["steps"] == 3 and np.isfinite(stats["final_loss"])


def test_train_joint_refuses_a_model_that_does_not_match_the_regime():
    ids, labels = _tiny_data()
    with pytest.raises(ValueError, match="needs off-ramp bypass rank 32"):
        train_joint(DeeBertModel(TINY, 2), ids, labels, TrainConfig(regime=BYPASS))
    with pytest.raises(ValueError, match="not 'two-stage'"):
        train_joint(DeeBertModel(TINY, 2), ids, labels, TrainConfig())


# ---------------------------------------------------------------------- CLI run -> export, per regime
def _cli_run(tmp_path_factory, sst2_sample_dir, regime):
    tmp = tmp_path_factory.mktemp(regime)
    ckpt = write_tiny_checkpoint(tmp / "ckpt")
    work = tmp / "work"
    extra = ["--bypass-rank", "4", "--bypass-beta", "0.5"] if regime == BYPASS else []
    rc = main(["run", "--train-file", str(sst2_sample_dir / "train.tsv"), "--work-dir", str(work),
               "--checkpoint", str(ckpt), "--max-seq-length", "24", "--batch-size", "16",
               "--max-train-examples", "96", "--max-eval-examples", "20", "--regime", regime,
               "--joint-off-ramp-learning-rate", "0.01", "--allow-weak-labels", *extra])
    assert rc == 0
    return regime, work


@pytest.fixture(scope="module")
def joint_run(tmp_path_factory, sst2_sample_dir):
    return _cli_run(tmp_path_factory, sst2_sample_dir, JOINT)


@pytest.fixture(scope="module")
def bypass_run(tmp_path_factory, sst2_sample_dir):
    return _cli_run(tmp_path_factory, sst2_sample_dir, BYPASS)


@pytest.fixture(params=[JOINT, BYPASS])
def regime_run(request):
    """``(regime, work_dir)`` of a CLI ``run`` with a tiny checkpoint, for each one-stage regime."""
    return request.getfixturevalue(f"{request.param}_run")


def test_regime_is_recorded_in_train_config_and_model_card(regime_run):
    regime, work = regime_run
    record = json.loads((work / "train" / "train_config.json").read_text())
    card = json.loads((work / "model" / "model_card.json").read_text())
    assert record["regime"] == regime and record["train_config"]["regime"] == regime
    assert card["training"]["regime"] == regime and card["training"]["train_config"]["regime"] == regime
    assert "stage1" not in card["training"] and card["training"]["joint"]["steps"] == 6
    if regime == BYPASS:
        assert record["off_ramp_bypass_rank"] == 4
        assert card["training"]["off_ramp_bypass"]["rank"] == 4
        assert card["training"]["off_ramp_bypass"]["off_ramps"] == [1, 2]
        assert card["training"]["off_ramp_bypass"]["gradient_scale_beta"] == 0.5
        assert "off-ramp bypasses" in card["backbone"]["new_weights"]
    else:
        assert record["off_ramp_bypass_rank"] == 0 and "off_ramp_bypass" not in card["training"]


def test_bypass_weights_are_trained_and_exported_with_the_same_values(regime_run):
    regime, work = regime_run
    trained, _ = pipeline.load_trained(work, tf.float16)   # the weights as exported
    exported = load_exported_model(work / "model")
    assert exported.off_ramp_bypass_rank == trained.off_ramp_bypass_rank == (4 if regime == BYPASS else 0)
    reader = tf.train.load_checkpoint(str(work / "model" / "saved_model" / "variables" / "variables"))
    stored = [k for k in reader.get_variable_to_shape_map() if "bypass" in k]
    assert len(stored) == (4 * 2 if regime == BYPASS else 0)
    for v in trained.bypass_variables():
        assert "up/kernel" not in v.name or np.any(v.numpy()), f"{v.name} was not trained"
    mine = exported.named_variables()
    for name, v in trained.named_variables().items():
        if not any(f"/attention/{p}/" in name for p in ("query", "key", "value")):   # exported fused
            np.testing.assert_array_equal(mine[name].numpy().astype(np.float32), v.numpy().astype(np.float32),
                                          err_msg=name)


def test_exported_signatures_include_the_bypass_and_equal_the_python_model(regime_run):
    regime, work = regime_run
    model, record = pipeline.load_trained(work, tf.float16)
    tok = load_tokenizer(work / "model" / "tokenizer.json", record["train_config"]["max_seq_length"])
    ids, mask = pad_batch(encode(tok, [e.text for e in read_jsonl(work / "data" / "test.jsonl")[:12]]))
    python = model.all_logits(ids, mask).numpy()
    session = run_session_style(work / "model" / "saved_model", ids, mask, model.num_layers)
    np.testing.assert_allclose(session, python, atol=1e-5)
    if regime == BYPASS:
        # without its bypasses the same weights give other early logits: the signature really runs them
        plain = DeeBertModel(model.config, 2, weight_dtype=tf.float16)
        names = plain.named_variables()
        for name, v in model.named_variables().items():
            if "bypass" not in name:
                names[name].assign(v)
        without = plain.all_logits(ids, mask).numpy()
        assert np.abs(without[:, :2] - session[:, :2]).max() > 1e-4
        np.testing.assert_allclose(without[:, 2], session[:, 2], atol=1e-5)   # last off-ramp has no bypass


def test_reexport_of_a_bypass_model_keeps_its_bypasses(bypass_run, tmp_path):
    import shutil
    _, work = bypass_run
    copy = tmp_path / "model"
    shutil.copytree(work / "model", copy)
    assert main(["reexport", "--model-dir", str(copy)]) == 0
    reader = tf.train.load_checkpoint(str(copy / "saved_model" / "variables" / "variables"))
    assert len([k for k in reader.get_variable_to_shape_map() if "bypass" in k]) == 8
