"""Export of a trained DeeBERT model as a directory the Java runtime loads.

See ``docs/export-format.md`` for the contract. Why one signature per layer rather than an in-graph
loop with the threshold as an input: the runtime (Java) drives Algorithm 1 itself, so (a) the batch
shrinks between layers with one boolean mask per layer and an exited row never runs a later layer,
(b) the exit policy (entropy, divergence, patience) and the live threshold S stay runtime decisions that need no
re-export, and (c) the runtime can count exits per layer for live metrics. The price is one signature
call per layer (~70 us on CPU), small next to a layer's compute.
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import tensorflow as tf

from .exits import entropy_tf
from .flat_names import checkpoint_key, flat_name
from .model import DeeBertModel

log = logging.getLogger(__name__)

SAVED_MODEL_DIR = "saved_model"
TOKENIZER_FILE = "tokenizer.json"
CARD_FILE = "model_card.json"
REFERENCE_FILE = "reference_outputs.jsonl"
TAG = "serve"
# Input of `embed` and `serving_default` in a sentence-pair model (card `input.text_pair`): int32 (B, T).
TOKEN_TYPE_IDS = "token_type_ids"
# Largest variables shard the export writes (bytes): files stay under the repository's 50 MB limit.
MAX_SHARD_BYTES = 45 * 1024 * 1024


def signature_names(num_layers: int) -> list[str]:
    """Signature keys the runtime calls: ``embed``, ``layer_1``..``layer_n`` and ``serving_default``."""
    return ["embed"] + [f"layer_{i + 1}" for i in range(num_layers)] + ["serving_default"]


class _ExportModule(tf.Module):
    """Holds the model (tracked variables) and the signature functions. With ``text_pair`` (a
    sentence-pair model) ``embed`` and ``serving_default`` also take ``token_type_ids`` int32 (B, T);
    without it they take exactly ``input_ids`` and ``attention_mask`` (a single-text model)."""

    def __init__(self, model: DeeBertModel, text_pair: bool = False):
        super().__init__(name="deebert")
        self.model = model
        H = model.config.hidden_size
        ids_spec = tf.TensorSpec([None, None], tf.int32, name="input_ids")
        mask_spec = tf.TensorSpec([None, None], tf.int32, name="attention_mask")
        hidden_spec = tf.TensorSpec([None, None, H], tf.float32, name="hidden")
        token_specs = [ids_spec, mask_spec] + ([tf.TensorSpec([None, None], tf.int32, name=TOKEN_TYPE_IDS)]
                                               if text_pair else [])

        @tf.function(input_signature=token_specs)
        def embed(input_ids, attention_mask, token_type_ids=None):
            # BERT ignores the mask here; RoBERTa's position ids are computed from it.
            return {"hidden": model.embed(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)}

        self.embed = embed
        self.layers = []
        for i in range(model.num_layers):
            def make(i=i):
                @tf.function(input_signature=[hidden_spec, mask_spec])
                def layer(hidden, attention_mask):
                    out = model.layer(i, hidden, attention_mask)
                    logits = model.off_ramp(i, out[:, 0, :])
                    return {"hidden_out": out, "logits": logits, "probs": tf.nn.softmax(logits, axis=-1),
                            "entropy": entropy_tf(logits)}
                return layer
            self.layers.append(make())

        @tf.function(input_signature=token_specs)
        def serving(input_ids, attention_mask, token_type_ids=None):
            return {"all_logits": model.all_logits(input_ids, attention_mask, token_type_ids=token_type_ids)}

        self.serving = serving

    def signatures(self) -> dict:
        sigs = {"embed": self.embed.get_concrete_function()}
        for i, f in enumerate(self.layers):
            sigs[f"layer_{i + 1}"] = f.get_concrete_function()
        sigs["serving_default"] = self.serving.get_concrete_function()
        return sigs


def as_stored_dtype(model: DeeBertModel, weight_dtype, word_embedding_dtype=None, fused_qkv=None) -> DeeBertModel:
    """A copy of ``model`` whose weights are stored as ``weight_dtype`` (computation stays float32);
    the word-embedding table as ``word_embedding_dtype`` (default: ``weight_dtype``); query/key/value
    fused or not as ``fused_qkv`` says (default: as in ``model``)."""
    word_embedding_dtype = word_embedding_dtype or weight_dtype
    fused_qkv = model.fused_qkv if fused_qkv is None else fused_qkv
    if (model.weight_dtype == weight_dtype and model.word_embedding_dtype == word_embedding_dtype
            and model.fused_qkv == fused_qkv):
        return model
    copy = DeeBertModel(model.config, model.num_labels, weight_dtype=weight_dtype,
                        word_embedding_dtype=word_embedding_dtype, fused_qkv=fused_qkv,
                        off_ramp_bypass_rank=model.off_ramp_bypass_rank)
    copy.copy_weights_from(model)
    return copy


def for_inference(model: DeeBertModel) -> DeeBertModel:
    """The copy of ``model`` that the SavedModel stores: every weight widened to float32 (exactly: float16
    values are float32 values) except the word-embedding table, which keeps ``model``'s storage dtype.

    Why: a float16 weight is cast to float32 inside the graph on every signature call, whole (a layer
    call cast ~1.8 M values: a third of the layer's time at batch 1 on 2 CPU cores), while the table is
    cast only in the rows a batch gathers. The values, and so every logit, stay those the evaluation and
    the model card were computed with.
    """
    return as_stored_dtype(model, tf.float32, word_embedding_dtype=model.word_embedding_dtype, fused_qkv=True)


def storage_description(model: DeeBertModel) -> dict:
    """The model card's ``weights.storage``: dtype of each group of stored weights and the query/key/value
    layout, e.g. ``{"word_embeddings": "float16", "other": "float32", "fused_qkv": true}``."""
    return {"word_embeddings": model.word_embedding_dtype.name, "other": model.weight_dtype.name,
            "fused_qkv": model.fused_qkv}


def save_saved_model(model: DeeBertModel, out_dir: Path, text_pair: bool = False) -> Path:
    """Writes ``out_dir/saved_model`` with the per-layer signatures (``embed`` and ``serving_default``
    taking ``token_type_ids`` too when ``text_pair``); returns its path. Variables are
    sharded into files of at most ``MAX_SHARD_BYTES`` (the repository keeps every file under 50 MB;
    TensorFlow's C runtime restores sharded checkpoints as usual)."""
    path = Path(out_dir) / SAVED_MODEL_DIR
    if path.exists():
        shutil.rmtree(path)
    module = _ExportModule(model, text_pair)
    options = tf.saved_model.SaveOptions(
        experimental_sharding_callback=tf.train.experimental.MaxShardSizePolicy(max_shard_size=MAX_SHARD_BYTES))
    tf.saved_model.save(module, str(path), signatures=module.signatures(), options=options)
    return path


def load_exported_model(model_dir: Path) -> DeeBertModel:
    """Rebuilds a :class:`DeeBertModel` from an exported model directory: the encoder config from the
    card's ``backbone.config``, the weights from ``saved_model/variables`` in the dtypes stored there
    (any storage layout this module ever wrote: all float16, or float32 with a float16 table; query/key/
    value separate or fused; off-ramps with or without bypasses, the rank read from the stored shape;
    weights under their names or under their flat names, :mod:`deebert_export.flat_names`).

    Raises:
        ValueError: if a weight is missing from the SavedModel or has another shape.
    """
    model_dir = Path(model_dir)
    card = json.loads((model_dir / CARD_FILE).read_text())
    prefix = model_dir / card["saved_model"] / "variables" / "variables"
    reader = tf.train.load_checkpoint(str(prefix))
    shapes, dtypes = reader.get_variable_to_shape_map(), reader.get_variable_to_dtype_map()
    flat = _is_flat(shapes)
    fused = checkpoint_key("layers/0/attention/query_key_value/kernel", flat) in dtypes
    word = dtypes[checkpoint_key("embeddings/word_embeddings", flat)]
    other = dtypes[checkpoint_key("layers/0/ffn/intermediate/kernel", flat)]
    bypass = shapes.get(checkpoint_key("off_ramps/0/bypass/down/kernel", flat))  # (H, r) when the off-ramps have bypasses
    from .model import BertConfig
    model = DeeBertModel(BertConfig.from_dict(card["backbone"]["config"]), len(card["labels"]),
                         weight_dtype=other, word_embedding_dtype=word, fused_qkv=fused,
                         off_ramp_bypass_rank=int(bypass[1]) if bypass else 0)
    read_weights(model, prefix)
    return model


def _is_flat(shapes: dict) -> bool:
    """Whether a checkpoint's keys are in the flat layout (:mod:`deebert_export.flat_names`)."""
    return checkpoint_key("embeddings/word_embeddings") not in shapes


def read_weights(model: DeeBertModel, checkpoint_prefix: Path) -> None:
    """Assigns every weight of ``model`` from a checkpoint in which the model is the saved object's
    ``model`` (a SavedModel's ``variables/variables`` or a ``tf.train.Checkpoint(model=...)``), in either
    key layout, casting each value to the weight's dtype.

    Raises:
        ValueError: if a weight is missing from the checkpoint or has another shape.
    """
    reader = tf.train.load_checkpoint(str(checkpoint_prefix))
    shapes = reader.get_variable_to_shape_map()
    flat = _is_flat(shapes)
    for name, var in model.named_variables().items():
        k = checkpoint_key(name, flat)
        if k not in shapes or list(shapes[k]) != var.shape.as_list():
            raise ValueError(f"checkpoint weight {k} is missing or has shape {shapes.get(k)}, expected {var.shape}")
        var.assign(tf.cast(reader.get_tensor(k), var.dtype))


def describe_signatures(saved_model_dir: Path) -> dict:
    """Input/output names, dtypes and shapes of every signature, read back from the SavedModel
    (the model card's ``signatures`` section; -1 = dynamic)."""
    loaded = tf.saved_model.load(str(saved_model_dir))
    out = {}
    for key, fn in loaded.signatures.items():
        _, kwargs = fn.structured_input_signature
        spec = lambda s: {"dtype": s.dtype.name, "shape": [-1 if d is None else int(d) for d in s.shape]}
        out[key] = {"inputs": {k: spec(v) for k, v in sorted(kwargs.items())},
                    "outputs": {k: spec(v) for k, v in sorted(fn.structured_outputs.items())}}
    return dict(sorted(out.items()))


def run_session_style(saved_model_dir: Path, input_ids: np.ndarray, attention_mask: np.ndarray, num_layers: int,
                      token_type_ids: np.ndarray | None = None) -> np.ndarray:
    """Runs the exported signatures layer by layer through TF's v1 session loader, the way the C API
    (and so DJL) loads a SavedModel. ``tf.saved_model.load`` alone is not enough: it can succeed on
    exports that fail in the C runtime (platform notes: Keras variable handles).

    Args:
        input_ids, attention_mask: int32 (B, T).
        token_type_ids: int32 (B, T) for a sentence-pair model, ``None`` for a single-text one.
    Returns:
        float32 (B, n, C): off-ramp logits of every layer, no early exit.
    """
    feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
    if token_type_ids is not None:
        feeds[TOKEN_TYPE_IDS] = token_type_ids
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, [TAG], str(saved_model_dir))

        def call(key, feeds):
            sig = meta.signature_def[key]
            fetch = {k: v.name for k, v in sig.outputs.items()}
            return sess.run(fetch, {sig.inputs[k].name: v for k, v in feeds.items()})

        hidden = call("embed", feeds)["hidden"]
        logits = []
        for i in range(num_layers):
            out = call(f"layer_{i + 1}", {"hidden": hidden, "attention_mask": attention_mask})
            hidden = out["hidden_out"]
            logits.append(out["logits"])
        return np.stack(logits, axis=1)


#: How ``weights.sha256`` in the model card (and so the default model version) is computed.
WEIGHTS_SHA256_DEFINITION = (
    "sha256 over every weight as float32 in the inference layout (query/key/value fused), in sorted order "
    "of the weights' flat names (embeddings/{word,position,token_type,ln_gamma,ln_beta}, "
    "layer_<i>/{qkv_w,qkv_b,ao_w,ao_b,ao_ln_gamma,ao_ln_beta,i_w,i_b,o_w,o_b,o_ln_gamma,o_ln_beta}, "
    "off_ramp_<i>/{pool_w,pool_b,cls_w,cls_b,bypass_down_w,bypass_down_b,bypass_up_w,bypass_up_b}, i 0-based; "
    "deebert_export.flat_names), each as the UTF-8 line '<name>|<shape>\\n' followed by its "
    "little-endian float32 values (C order); the same for any storage dtype or sharding of the same values")


def weights_sha256(model: DeeBertModel) -> str:
    """The hex sha256 of a model's weights (:data:`WEIGHTS_SHA256_DEFINITION`).

    Every stored value (float16 or float32) widens exactly to float32 and a fused query/key/value matrix
    is the concatenation of the separate ones, so an export, its re-export in another storage layout and
    :func:`load_exported_model` of either give the same digest. The weights are hashed under their flat
    names (:func:`deebert_export.flat_names.flat_name`), fixed by the definition, so the digest does not
    depend on how the Python model names its variables.
    """
    canonical = as_stored_dtype(model, tf.float32, word_embedding_dtype=tf.float32, fused_qkv=True)
    h = hashlib.sha256()
    named = {flat_name(n): v for n, v in canonical.named_variables().items()}
    for name, var in sorted(named.items(), key=lambda item: item[0]):
        value = np.ascontiguousarray(var.numpy(), dtype="<f4")
        h.update(f"{name}|{list(value.shape)}\n".encode("utf-8"))
        h.update(value.tobytes())
    return h.hexdigest()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_reference_outputs(path: Path, examples, labels: list[str], token_ids: list[list[int]], all_logits: np.ndarray,
                            type_ids: list[list[int]] | None = None) -> None:
    """One JSON line per example: id, text_sha256, label, label_index, num_tokens, token_ids (what the
    model saw, [CLS] ... [SEP] after truncation) and logits (n x C), so a runtime can prove tokenizer
    and model parity; for a sentence-pair model (``type_ids`` given) also text_pair_sha256 and
    token_type_ids."""
    with open(path, "w", encoding="utf-8") as f:
        for i, (ex, ids, lg) in enumerate(zip(examples, token_ids, all_logits)):
            line = {"id": ex.id, "text_sha256": text_sha256(ex.text)}
            if type_ids is not None:
                line["text_pair_sha256"] = text_sha256(ex.text_pair)
            line.update({"label": ex.label, "label_index": labels.index(ex.label), "num_tokens": len(ids),
                         "token_ids": [int(t) for t in ids]})
            if type_ids is not None:
                line["token_type_ids"] = [int(t) for t in type_ids[i]]
            line["logits"] = [[round(float(x), 6) for x in row] for row in lg]
            f.write(json.dumps(line) + "\n")
