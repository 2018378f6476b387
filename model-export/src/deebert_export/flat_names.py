"""The flat weight names: one short name per weight (``embeddings/word``, ``layer_0/qkv_w``,
``off_ramp_0/cls_w``, ...), the counterpart of every :meth:`DeeBertModel.named_variables` name.

Two things are defined with them, so they never change:

- the weights hash (:func:`deebert_export.export.weights_sha256`, the model card's ``weights.sha256``
  and the default model version), which hashes every weight under its flat name;
- the flat checkpoint layout, in which a weight's object path is ``model/embedding_vars/<leaf>``,
  ``model/layer_vars/<i>/<leaf>`` or ``model/off_ramp_vars/<i>/<leaf>`` (SavedModels and training
  checkpoints written in that layout are still read: :func:`checkpoint_key`).
"""
from __future__ import annotations

import re

# Leaf of a DeeBertModel name -> flat leaf, per part of the model.
_EMBEDDINGS = {
    "word_embeddings": "word", "position_embeddings": "position", "token_type_embeddings": "token_type",
    "layer_norm/gamma": "ln_gamma", "layer_norm/beta": "ln_beta",
}
_LAYER = {
    "attention/query/kernel": "q_w", "attention/query/bias": "q_b",
    "attention/key/kernel": "k_w", "attention/key/bias": "k_b",
    "attention/value/kernel": "v_w", "attention/value/bias": "v_b",
    "attention/query_key_value/kernel": "qkv_w", "attention/query_key_value/bias": "qkv_b",
    "attention/output/dense/kernel": "ao_w", "attention/output/dense/bias": "ao_b",
    "attention/output/layer_norm/gamma": "ao_ln_gamma", "attention/output/layer_norm/beta": "ao_ln_beta",
    "ffn/intermediate/kernel": "i_w", "ffn/intermediate/bias": "i_b",
    "ffn/output/dense/kernel": "o_w", "ffn/output/dense/bias": "o_b",
    "ffn/output/layer_norm/gamma": "o_ln_gamma", "ffn/output/layer_norm/beta": "o_ln_beta",
}
_OFF_RAMP = {
    "pooler/kernel": "pool_w", "pooler/bias": "pool_b", "classifier/kernel": "cls_w", "classifier/bias": "cls_b",
    "bypass/down/kernel": "bypass_down_w", "bypass/down/bias": "bypass_down_b",
    "bypass/up/kernel": "bypass_up_w", "bypass/up/bias": "bypass_up_b",
}
_INDEXED = re.compile(r"(layers|off_ramps)/(\d+)/(.+)")


def flat_name(name: str) -> str:
    """``embeddings/layer_norm/gamma`` -> ``embeddings/ln_gamma``, ``layers/2/ffn/intermediate/kernel`` ->
    ``layer_2/i_w``, ``off_ramps/0/bypass/up/bias`` -> ``off_ramp_0/bypass_up_b``.

    Raises:
        KeyError: ``name`` is not a DeeBertModel weight name.
    """
    if name.startswith("embeddings/"):
        return "embeddings/" + _EMBEDDINGS[name[len("embeddings/"):]]
    m = _INDEXED.fullmatch(name)
    if m is None:
        raise KeyError(name)
    part, index, leaf = m.groups()
    if part == "layers":
        return f"layer_{index}/{_LAYER[leaf]}"
    return f"off_ramp_{index}/{_OFF_RAMP[leaf]}"


def checkpoint_key(name: str, flat: bool = False) -> str:
    """Checkpoint key of the weight called ``name`` (a DeeBertModel name) when the model is the ``model``
    attribute of the saved object (the export module, or ``tf.train.Checkpoint(model=...)``): in the
    current layout ``model/<name>/.ATTRIBUTES/VARIABLE_VALUE``, in the flat layout (``flat``) the path
    of its flat name (see the module docstring)."""
    if not flat:
        return f"model/{name}/.ATTRIBUTES/VARIABLE_VALUE"
    group, _, leaf = flat_name(name).partition("/")
    if group == "embeddings":
        return f"model/embedding_vars/{leaf}/.ATTRIBUTES/VARIABLE_VALUE"
    kind, index = group.rsplit("_", 1)
    return f"model/{kind}_vars/{index}/{leaf}/.ATTRIBUTES/VARIABLE_VALUE"
