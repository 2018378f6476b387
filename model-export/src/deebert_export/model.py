"""DeeBERT: a BERT encoder with one off-ramp after every transformer layer (Xin et al. 2020, section 3).

The same encoder runs RoBERTa-family checkpoints (``model_type`` "roberta"): their architecture is
BERT's, except that position ids start after the padding index (:func:`roberta_position_ids`) and the
token-type table has one row.

Written with plain ``tf.Variable`` weights and TensorFlow ops, not Keras layers: a SavedModel built
this way loads in the TF 2.16 C runtime that DJL's TensorFlow engine uses (a Keras 3 model attached
to a ``tf.Module`` does not; see ``../shared/platform-notes.md``), and the very same code serves
training, evaluation and export, so the exported signatures cannot drift from the trained model.

Shapes use ``B`` = batch size, ``T`` = sequence length (tokens, incl. [CLS]/[SEP]), ``H`` = hidden
size, ``C`` = number of labels, ``n`` = number of transformer layers (= number of off-ramps).
Layer and off-ramp indices are 0-based in Python; ``exit layer`` values reported outside are 1-based.
"""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Iterable

import numpy as np
import tensorflow as tf

# Large negative added to attention scores of padding positions before the softmax, so padding gets
# ~0 weight (BERT's additive mask trick; exp(-1e9) underflows to exactly 0 in float32).
_MASK_NEG = -1e9
# Name prefix of an off-ramp's bypass weights inside ``off_ramp_vars[i]`` (see ``DeeBertModel.bypass``).
BYPASS_PREFIX = "bypass_"

# Hugging Face ``model_type`` values whose checkpoints this encoder reproduces. They differ only in the
# position ids (see :func:`roberta_position_ids`) and in the tokenizer that comes with the checkpoint.
MODEL_TYPES = ("bert", "roberta")


@dataclasses.dataclass(frozen=True)
class BertConfig:
    """The subset of a Hugging Face ``config.json`` that defines a BERT or RoBERTa encoder.

    ``model_type`` is ``"bert"`` or ``"roberta"``; ``pad_token_id`` is the checkpoint's padding id, which
    for RoBERTa is also the ``padding_idx`` its position ids are offset by (1 for roberta-base, whose
    ``max_position_embeddings`` is 514 = 512 positions + 2). Configs written before these two fields
    existed read as BERT with pad id 0.
    """

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    hidden_act: str = "gelu"
    model_type: str = "bert"
    pad_token_id: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> "BertConfig":
        """Reads a Hugging Face BERT or RoBERTa ``config.json`` dict; unknown keys are ignored.

        Raises:
            ValueError: if the model type is not one of :data:`MODEL_TYPES`, a key is missing, the activation
                is unsupported, or a RoBERTa position table has no row past the padding index.
        """
        model_type = d.get("model_type", "bert")
        if model_type not in MODEL_TYPES:
            raise ValueError(f"unsupported model_type {model_type!r}: only {' and '.join(MODEL_TYPES)} checkpoints")
        names = {f.name for f in dataclasses.fields(cls)}
        missing = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING and f.name not in d]
        if missing:
            raise ValueError(f"config.json lacks {missing}")
        values = {k: v for k, v in d.items() if k in names and v is not None}
        values["model_type"] = model_type
        if model_type == "roberta":
            values.setdefault("pad_token_id", 1)  # transformers' RobertaConfig default
        cfg = cls(**values)
        if cfg.hidden_act not in ("gelu", "gelu_new", "relu"):
            raise ValueError(f"unsupported hidden_act {cfg.hidden_act!r}")
        if cfg.hidden_size % cfg.num_attention_heads:
            raise ValueError("hidden_size must be a multiple of num_attention_heads")
        if cfg.max_positions < 1:
            raise ValueError(f"max_position_embeddings {cfg.max_position_embeddings} leaves no position after "
                             f"padding_idx {cfg.pad_token_id}")
        return cfg

    @property
    def max_positions(self) -> int:
        """Longest input (tokens, special tokens included) the position table covers: BERT uses rows
        0..T-1, so ``max_position_embeddings``; RoBERTa uses rows ``pad_token_id + 1`` .. ``pad_token_id + T``,
        so ``max_position_embeddings - pad_token_id - 1`` (512 for roberta-base)."""
        if self.model_type == "roberta":
            return self.max_position_embeddings - self.pad_token_id - 1
        return self.max_position_embeddings

    @classmethod
    def from_json_file(cls, path: Path) -> "BertConfig":
        return cls.from_dict(json.loads(Path(path).read_text()))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def roberta_position_ids(attention_mask: tf.Tensor, padding_idx: int) -> tf.Tensor:
    """RoBERTa's position ids: the rule of Hugging Face's ``create_position_ids_from_input_ids``
    (``transformers`` ``models/roberta/modeling_roberta.py``), applied to the attention mask.

    The t-th real token of a row (t = 1, 2, ...) gets position ``padding_idx + t``, so the first one (<s>)
    gets ``padding_idx + 1``; a padding position gets ``padding_idx``. Hugging Face finds padding by
    ``input_ids != padding_idx``; this reads the mask instead, because the runtimes pad with id 0 (which
    is <s> in a RoBERTa vocabulary), so the result never depends on the id padding is filled with.

    Args:
        attention_mask: int32 (B, T), 1 for real tokens and 0 for padding (any non-zero counts as real).
        padding_idx: the checkpoint's ``pad_token_id``.
    Returns:
        int32 (B, T) row indices into the (max_position_embeddings, H) position table.
    """
    real = tf.cast(tf.not_equal(attention_mask, 0), tf.int32)
    return tf.cumsum(real, axis=1) * real + padding_idx


class DeeBertModel(tf.Module):
    """BERT (or RoBERTa) encoder + n off-ramps, with weights as plain ``tf.Variable``s.

    Off-ramp i (paper section 3, Fig. 1) reads layer i's output: pooler (dense H->H + tanh) on the
    [CLS] vector (position 0), dropout, linear H->C. The last off-ramp is the original classifier.

    Args:
        config: encoder hyper-parameters.
        num_labels: C.
        weight_dtype: storage dtype of the weights. ``tf.float16`` halves the exported size; every
            weight is cast to float32 where it is used, so all computation stays float32.
        seed: seed of the random initialisation (only used for weights that a checkpoint doesn't set).
        word_embedding_dtype: storage dtype of the (vocab, H) word-embedding table alone (default:
            ``weight_dtype``). The export keeps the table float16 and every other weight float32: the
            table is cast only in the rows a batch gathers, while a float16 weight matrix would be cast
            whole on every signature call (~1.8 M values per layer call, a third of a layer's time at
            batch 1 on 2 CPU cores).
        fused_qkv: store each layer's query/key/value projections as one (H, 3H) matrix ``qkv_w`` and a
            (3H,) bias ``qkv_b`` (the inference layout the export writes) instead of ``q_w``/``k_w``/``v_w``
            and their biases (the training layout, the checkpoint's). The maths is the same either way: the
            layer always runs one (B*T, H) x (H, 3H) matmul, concatenating the three matrices on the fly in
            the training layout. One matmul three times as wide is ~10% faster per layer at batch 1 on 2 CPU
            cores: oneDNN runs small matmuls single-threaded.
        off_ramp_bypass_rank: 0 (default: plain DeeBERT off-ramps, exactly as before) or r >= 1: off-ramps
            1..n-1 (0-based 0..n-2) get a block-wise bypass of rank r on their [CLS] vector, read before
            the pooler (our interpretation of BADGE, Zhu et al. ACL 2023; ``docs/badge-bypass.md``). Its
            weights belong to the off-ramp: ``off_ramp_vars[i]`` holds ``bypass_down_w`` (H, r),
            ``bypass_down_b`` (r,), ``bypass_up_w`` (r, H) and ``bypass_up_b`` (H,). ``bypass_up_w`` starts
            at zero, so a new bypass is the identity. The last off-ramp (the original classifier) has none.
    """

    def __init__(self, config: BertConfig, num_labels: int, weight_dtype=tf.float32, seed: int = 13, name=None,
                 word_embedding_dtype=None, fused_qkv: bool = False, off_ramp_bypass_rank: int = 0):
        super().__init__(name=name)
        self.config = config
        self.num_labels = num_labels
        self.weight_dtype = weight_dtype
        self.word_embedding_dtype = word_embedding_dtype or weight_dtype
        self.fused_qkv = fused_qkv
        if off_ramp_bypass_rank < 0:
            raise ValueError(f"off_ramp_bypass_rank must be >= 0, got {off_ramp_bypass_rank}")
        self.off_ramp_bypass_rank = int(off_ramp_bypass_rank)
        rng = np.random.default_rng(seed)
        H, I, n = config.hidden_size, config.intermediate_size, config.num_hidden_layers

        def var(shape, kind, name, dtype=weight_dtype):
            if kind == "normal":  # BERT's initializer: truncated-ish normal, std 0.02
                value = rng.normal(0.0, 0.02, size=shape)
            elif kind == "ones":
                value = np.ones(shape)
            else:
                value = np.zeros(shape)
            return tf.Variable(value.astype(np.float32), dtype=dtype, name=name, trainable=True)

        self.embedding_vars = {
            "word": var((config.vocab_size, H), "normal", "word_embeddings", self.word_embedding_dtype),
            "position": var((config.max_position_embeddings, H), "normal", "position_embeddings"),
            "token_type": var((config.type_vocab_size, H), "normal", "token_type_embeddings"),
            "ln_gamma": var((H,), "ones", "emb_ln_gamma"),
            "ln_beta": var((H,), "zeros", "emb_ln_beta"),
        }
        self.layer_vars = []
        for i in range(n):
            p = f"layer_{i}_"
            self.layer_vars.append({
                **({"qkv_w": var((H, 3 * H), "normal", p + "qkv_w"), "qkv_b": var((3 * H,), "zeros", p + "qkv_b")}
                   if fused_qkv else
                   {"q_w": var((H, H), "normal", p + "q_w"), "q_b": var((H,), "zeros", p + "q_b"),
                    "k_w": var((H, H), "normal", p + "k_w"), "k_b": var((H,), "zeros", p + "k_b"),
                    "v_w": var((H, H), "normal", p + "v_w"), "v_b": var((H,), "zeros", p + "v_b")}),
                "ao_w": var((H, H), "normal", p + "ao_w"), "ao_b": var((H,), "zeros", p + "ao_b"),
                "ao_ln_gamma": var((H,), "ones", p + "ao_ln_gamma"), "ao_ln_beta": var((H,), "zeros", p + "ao_ln_beta"),
                "i_w": var((H, I), "normal", p + "i_w"), "i_b": var((I,), "zeros", p + "i_b"),
                "o_w": var((I, H), "normal", p + "o_w"), "o_b": var((H,), "zeros", p + "o_b"),
                "o_ln_gamma": var((H,), "ones", p + "o_ln_gamma"), "o_ln_beta": var((H,), "zeros", p + "o_ln_beta"),
            })
        self.off_ramp_vars = []
        for i in range(n):
            p = f"off_ramp_{i}_"
            self.off_ramp_vars.append({
                "pool_w": var((H, H), "normal", p + "pool_w"), "pool_b": var((H,), "zeros", p + "pool_b"),
                "cls_w": var((H, num_labels), "normal", p + "cls_w"), "cls_b": var((num_labels,), "zeros", p + "cls_b"),
            })
        # Created last, and only when asked for: a model without bypasses draws exactly the same random
        # initial values as before bypasses existed.
        r = self.off_ramp_bypass_rank
        for i in range(n - 1 if r else 0):
            p = f"off_ramp_{i}_"
            self.off_ramp_vars[i].update({
                "bypass_down_w": var((H, r), "normal", p + "bypass_down_w"),
                "bypass_down_b": var((r,), "zeros", p + "bypass_down_b"),
                "bypass_up_w": var((r, H), "zeros", p + "bypass_up_w"),
                "bypass_up_b": var((H,), "zeros", p + "bypass_up_b"),
            })

    # ----------------------------------------------------------------------------------- variables
    @property
    def num_layers(self) -> int:
        return self.config.num_hidden_layers

    def encoder_variables(self) -> list[tf.Variable]:
        """Embeddings and all transformer layers (trained in stage 1 only)."""
        out = list(self.embedding_vars.values())
        for lv in self.layer_vars:
            out.extend(lv.values())
        return out

    def off_ramp_variables(self, indices: Iterable[int]) -> list[tf.Variable]:
        """Weights of the off-ramps with the given 0-based indices."""
        return [v for i in indices for v in self.off_ramp_vars[i].values()]

    def bypass_variables(self) -> list[tf.Variable]:
        """The off-ramp bypass weights (empty without bypasses); a subset of :meth:`off_ramp_variables`."""
        return [v for ov in self.off_ramp_vars for k, v in ov.items() if k.startswith(BYPASS_PREFIX)]

    def named_variables(self) -> dict[str, tf.Variable]:
        """Every weight under a stable name (used to copy weights between models of different dtypes)."""
        out = {f"embeddings/{k}": v for k, v in self.embedding_vars.items()}
        for i, lv in enumerate(self.layer_vars):
            out.update({f"layer_{i}/{k}": v for k, v in lv.items()})
        for i, ov in enumerate(self.off_ramp_vars):
            out.update({f"off_ramp_{i}/{k}": v for k, v in ov.items()})
        return out

    def copy_weights_from(self, other: "DeeBertModel", keep_new_bypasses: bool = False) -> None:
        """Assigns every weight of ``other`` (same architecture) to this model, casting to this dtype; a
        fused ``qkv_w``/``qkv_b`` is filled from ``other``'s separate query, key and value weights.

        Args:
            keep_new_bypasses: when this model has off-ramp bypasses and ``other`` has none, keep this
                model's (freshly initialised) bypass weights instead of failing: how bypasses are added
                to a model loaded from a pre-trained checkpoint.
        Raises:
            KeyError: a weight of this model has no counterpart in ``other``.
        """
        mine, theirs = self.named_variables(), other.named_variables()
        for name, v in mine.items():
            if name not in theirs and keep_new_bypasses and name.rsplit("/", 1)[-1].startswith(BYPASS_PREFIX):
                continue
            if name not in theirs and name.endswith(("/qkv_w", "/qkv_b")):
                prefix, leaf = name.rsplit("/", 1)
                suffix = leaf[-1]  # "w" or "b"
                value = tf.concat([tf.cast(theirs[f"{prefix}/{p}_{suffix}"], tf.float32) for p in "qkv"], axis=-1)
            else:
                value = theirs[name]
            v.assign(tf.cast(value, v.dtype))

    def _w(self, v) -> tf.Tensor:
        """A weight (or a slice of one) as float32, whatever its storage dtype."""
        return tf.cast(v, tf.float32) if v.dtype != tf.float32 else v

    # ----------------------------------------------------------------------------------- forward
    def _layer_norm(self, x, gamma, beta):
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(var + self.config.layer_norm_eps) * self._w(gamma) + self._w(beta)

    def _dropout(self, x, rate, training):
        return tf.nn.dropout(x, rate=rate) if training and rate > 0 else x

    def _act(self, x):
        act = self.config.hidden_act
        if act == "relu":
            return tf.nn.relu(x)
        return tf.nn.gelu(x, approximate=(act == "gelu_new"))

    def embed(self, input_ids: tf.Tensor, training: bool = False, attention_mask: tf.Tensor | None = None,
              token_type_ids: tf.Tensor | None = None) -> tf.Tensor:
        """Embedding layer.

        Args:
            input_ids: int32 (B, T) token ids (WordPiece or BPE, as the checkpoint's tokenizer gives them).
            attention_mask: int32 (B, T), 1 for real tokens and 0 for padding. RoBERTa needs it for its
                position ids (:func:`roberta_position_ids`); BERT ignores it.
            token_type_ids: int32 (B, T) segment ids, 0 for ``[CLS] text [SEP]`` and 1 for
                ``text_pair [SEP]`` (sentence pairs), values < ``type_vocab_size``; ``None`` for single
                texts: every position adds token type 0's row (the graph single-text models export).
        Returns:
            float32 (B, T, H): word + position + token-type embeddings, layer-normalised.
        Raises:
            ValueError: for a RoBERTa model called without ``attention_mask``.
        """
        ev = self.embedding_vars
        # Gather (and slice) BEFORE casting: casting the whole (vocab, H) table to float32 on every call
        # cost ~20 ms per signature call with float16 storage.
        x = self._w(tf.gather(ev["word"], input_ids))
        x += self._position_embeddings(input_ids, attention_mask)
        if token_type_ids is None or self.config.type_vocab_size == 1:
            # RoBERTa's table has one row: its tokenizer may still number a pair's segments 0/1.
            x += self._w(ev["token_type"][0:1])[tf.newaxis, :, :]
        else:
            x += self._w(tf.gather(ev["token_type"], token_type_ids))
        x = self._layer_norm(x, ev["ln_gamma"], ev["ln_beta"])
        return self._dropout(x, self.config.hidden_dropout_prob, training)

    def _position_embeddings(self, input_ids: tf.Tensor, attention_mask: tf.Tensor | None) -> tf.Tensor:
        """float32 (1, T, H) for BERT (rows 0..T-1, the same for every row), (B, T, H) for RoBERTa (rows
        from :func:`roberta_position_ids`).

        Raises:
            ValueError: for RoBERTa without ``attention_mask``.
        """
        table = self.embedding_vars["position"]
        if self.config.model_type == "roberta":
            if attention_mask is None:
                raise ValueError("a RoBERTa model needs attention_mask for its position ids")
            return self._w(tf.gather(table, roberta_position_ids(attention_mask, self.config.pad_token_id)))
        return self._w(table[:tf.shape(input_ids)[1]])[tf.newaxis, :, :]

    def layer(self, i: int, hidden: tf.Tensor, attention_mask: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Transformer layer i (0-based).

        Args:
            hidden: float32 (B, T, H), the previous layer's output.
            attention_mask: int32 (B, T), 1 for real tokens and 0 for padding.
        Returns:
            float32 (B, T, H).
        """
        lv, cfg = self.layer_vars[i], self.config
        heads = cfg.num_attention_heads
        d = cfg.hidden_size // heads
        B, T = tf.shape(hidden)[0], tf.shape(hidden)[1]
        # Every dense layer runs on the (B*T, H) matrix: a 2-D MatMul + BiasAdd is what oneDNN fuses
        # (with the GELU too); a (B, T, H) x (H, H') matmul becomes a broadcast BatchMatMulV2 plus a
        # separate AddV2. Same maths, rounding differences ~1e-6.
        x = tf.reshape(hidden, [B * T, cfg.hidden_size])

        def dense(inputs, w, b):  # (B*T, K) -> (B*T, K')
            return tf.nn.bias_add(tf.matmul(inputs, self._w(lv[w])), self._w(lv[b]))

        if "qkv_w" in lv:
            qkv_w, qkv_b = self._w(lv["qkv_w"]), self._w(lv["qkv_b"])
        else:  # training layout: the same (H, 3H) matrix, built from the three trained ones
            qkv_w = tf.concat([self._w(lv["q_w"]), self._w(lv["k_w"]), self._w(lv["v_w"])], axis=1)
            qkv_b = tf.concat([self._w(lv["q_b"]), self._w(lv["k_b"]), self._w(lv["v_b"])], axis=0)
        qkv = tf.nn.bias_add(tf.matmul(x, qkv_w), qkv_b)                                 # (B*T, 3H)
        qkv = tf.transpose(tf.reshape(qkv, [B, T, 3, heads, d]), [2, 0, 3, 1, 4])      # (3, B, heads, T, d)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = tf.matmul(q, k, transpose_b=True) / math.sqrt(d)          # (B, heads, T, T)
        mask = tf.cast(attention_mask, tf.float32)[:, tf.newaxis, tf.newaxis, :]  # (B, 1, 1, T)
        scores += (1.0 - mask) * _MASK_NEG
        probs = self._dropout(tf.nn.softmax(scores, axis=-1), cfg.attention_probs_dropout_prob, training)
        context = tf.reshape(tf.transpose(tf.matmul(probs, v), [0, 2, 1, 3]), [B * T, cfg.hidden_size])
        attn = dense(context, "ao_w", "ao_b")
        attn = self._layer_norm(self._dropout(attn, cfg.hidden_dropout_prob, training) + x,
                                lv["ao_ln_gamma"], lv["ao_ln_beta"])
        inter = self._act(dense(attn, "i_w", "i_b"))
        out = dense(inter, "o_w", "o_b")
        out = self._layer_norm(self._dropout(out, cfg.hidden_dropout_prob, training) + attn,
                               lv["o_ln_gamma"], lv["o_ln_beta"])
        return tf.reshape(out, [B, T, cfg.hidden_size])

    def off_ramp(self, i: int, cls_vector: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Off-ramp i (0-based) on layer i's [CLS] vector: [bypass, if the model has them and i < n-1],
        pooler (dense H->H + tanh), dropout, linear H->C.

        Args:
            cls_vector: float32 (B, H), ``hidden[:, 0, :]`` of layer i's output.
        Returns:
            float32 (B, C) logits.
        """
        ov = self.off_ramp_vars[i]
        if "bypass_down_w" in ov:
            cls_vector = self.bypass(i, cls_vector)
        pooled = tf.tanh(tf.nn.bias_add(tf.matmul(cls_vector, self._w(ov["pool_w"])), self._w(ov["pool_b"])))
        pooled = self._dropout(pooled, self.config.hidden_dropout_prob, training)
        return tf.nn.bias_add(tf.matmul(pooled, self._w(ov["cls_w"])), self._w(ov["cls_b"]))

    def bypass(self, i: int, cls_vector: tf.Tensor) -> tf.Tensor:
        """Off-ramp i's block-wise bypass (our reading of BADGE; ``docs/badge-bypass.md``): a low-rank
        residual adapter on the [CLS] vector only, ``h + W_up gelu(W_down h + b_down) + b_up``.

        Cost: two (B, H) x (H, r) / (r, H) matmuls, 2*2*H*r FLOPs per example (49 k for H=384, r=32),
        against ~3.5 M FLOPs per token for a transformer layer's dense projections.

        Args:
            cls_vector: float32 (B, H).
        Returns:
            float32 (B, H); equal to ``cls_vector`` while ``bypass_up_w`` and ``bypass_up_b`` are zero.
        Raises:
            KeyError: off-ramp i has no bypass.
        """
        ov = self.off_ramp_vars[i]
        down = tf.nn.gelu(tf.nn.bias_add(tf.matmul(cls_vector, self._w(ov["bypass_down_w"])), self._w(ov["bypass_down_b"])))
        return cls_vector + tf.nn.bias_add(tf.matmul(down, self._w(ov["bypass_up_w"])), self._w(ov["bypass_up_b"]))

    def encode_cls(self, input_ids, attention_mask, training: bool = False, token_type_ids=None) -> tf.Tensor:
        """Runs every layer and returns each layer's [CLS] vector: float32 (B, n, H).
        ``token_type_ids``: int32 (B, T) for sentence pairs, ``None`` for single texts (see :meth:`embed`)."""
        hidden = self.embed(input_ids, training, attention_mask=attention_mask, token_type_ids=token_type_ids)
        cls = []
        for i in range(self.num_layers):
            hidden = self.layer(i, hidden, attention_mask, training)
            cls.append(hidden[:, 0, :])
        return tf.stack(cls, axis=1)

    def all_logits(self, input_ids, attention_mask, training: bool = False, token_type_ids=None) -> tf.Tensor:
        """Every off-ramp's logits with no early exit: float32 (B, n, C). ``token_type_ids`` as in :meth:`embed`."""
        cls = self.encode_cls(input_ids, attention_mask, training, token_type_ids=token_type_ids)
        return tf.stack([self.off_ramp(i, cls[:, i, :], training) for i in range(self.num_layers)], axis=1)
