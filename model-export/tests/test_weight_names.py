"""Weight names: every weight's readable name, its flat name (weights hash, flat checkpoint layout), the
checkpoint keys of both layouts, and the seeded initial values the names must not change."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from deebert_export.export import load_exported_model, read_weights, weights_sha256
from deebert_export.flat_names import checkpoint_key, flat_name
from deebert_export.model import BertConfig, DeeBertModel
from deebert_export.tokenization import padded_inputs

TINY = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=37,
                  max_position_embeddings=64)
REPO = Path(__file__).resolve().parents[2]


def test_seeded_initial_weights_are_those_the_seed_always_gave():
    # Digests of DeeBertModel(TINY, 2) and (seed 5, bypass rank 4) as first computed: the draw order of
    # the seeded initialiser (embeddings, layers, off-ramps, then bypasses) must never change, or a seeded
    # training run would start from other weights.
    assert weights_sha256(DeeBertModel(TINY, 2)) == "e078db5bc372d87e4e52febfe370232d0c887765e56072d7a04b3a94bf2992b7"
    assert (weights_sha256(DeeBertModel(TINY, 2, seed=5, off_ramp_bypass_rank=4))
            == "1e6741c9605cb819c0c95b32bf6287bae5515aa35e27e44a31e8aec6f0d9cc31")


@pytest.mark.parametrize("kwargs", [{}, {"fused_qkv": True}, {"off_ramp_bypass_rank": 2, "fused_qkv": True}])
def test_names_are_the_checkpoint_object_paths_and_map_one_to_one_to_flat_names(kwargs, tmp_path):
    model = DeeBertModel(TINY, 2, **kwargs)
    names = list(model.named_variables())
    assert len({flat_name(n) for n in names}) == len(names) == len({checkpoint_key(n, flat=True) for n in names})
    assert {v.name for v in model.named_variables().values()} == {n + ":0" for n in names}
    tf.train.Checkpoint(model=model).write(str(tmp_path / "ckpt"))
    keys = {k for k, _ in tf.train.list_variables(str(tmp_path / "ckpt")) if k.startswith("model/")}
    assert keys == {checkpoint_key(n) for n in names}


def test_flat_names_of_a_fused_model_with_bypasses():
    names = {flat_name(n) for n in DeeBertModel(TINY, 2, fused_qkv=True, off_ramp_bypass_rank=2).named_variables()}
    layer = ["qkv_w", "qkv_b", "ao_w", "ao_b", "ao_ln_gamma", "ao_ln_beta", "i_w", "i_b", "o_w", "o_b",
             "o_ln_gamma", "o_ln_beta"]
    ramp = ["pool_w", "pool_b", "cls_w", "cls_b"]
    bypass = ["bypass_down_w", "bypass_down_b", "bypass_up_w", "bypass_up_b"]
    assert names == ({f"embeddings/{k}" for k in ("word", "position", "token_type", "ln_gamma", "ln_beta")}
                     | {f"layer_{i}/{k}" for i in range(3) for k in layer}
                     | {f"off_ramp_{i}/{k}" for i in range(3) for k in ramp + (bypass if i < 2 else [])})
    with pytest.raises(KeyError):
        flat_name("layers/0/attention/qkv")


def test_a_checkpoint_in_the_flat_layout_is_read(tmp_path):
    source = DeeBertModel(TINY, 2, seed=3, off_ramp_bypass_rank=2)
    flat = tf.Module()
    flat.embedding_vars, flat.layer_vars, flat.off_ramp_vars = {}, [{} for _ in range(3)], [{} for _ in range(3)]
    for name, v in source.named_variables().items():
        group, leaf = flat_name(name).split("/")
        if group == "embeddings":
            flat.embedding_vars[leaf] = v
        else:
            kind, index = group.rsplit("_", 1)
            getattr(flat, f"{kind}_vars")[int(index)][leaf] = v
    tf.train.Checkpoint(model=flat).write(str(tmp_path / "ckpt"))
    target = DeeBertModel(TINY, 2, seed=4, off_ramp_bypass_rank=2)
    read_weights(target, tmp_path / "ckpt")
    for (name, a), b in zip(source.named_variables().items(), target.named_variables().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


@pytest.mark.skipif(not (REPO / "streams-app/src/test/resources/tiny-model").is_dir(), reason="needs the repository")
def test_an_export_in_the_flat_layout_loads_and_reproduces_its_reference_outputs():
    # The Java tests' tiny model was exported in the flat layout.
    model_dir = REPO / "streams-app/src/test/resources/tiny-model"
    reader = tf.train.load_checkpoint(str(model_dir / "saved_model" / "variables" / "variables"))
    assert "model/embedding_vars/word/.ATTRIBUTES/VARIABLE_VALUE" in reader.get_variable_to_shape_map()
    model = load_exported_model(model_dir)
    refs = [json.loads(line) for line in (model_dir / "reference_outputs.jsonl").read_text().splitlines() if line]
    ids = [r["token_ids"] for r in refs]
    got = model.all_logits(*padded_inputs(ids, None, list(range(len(ids))))).numpy()
    np.testing.assert_allclose(got, np.array([r["logits"] for r in refs]), atol=1e-5)
