"""The DeeBERT model: a BERT (or RoBERTa) encoder with an off-ramp after every transformer layer
(Xin et al. 2020, section 3)."""
from __future__ import annotations

from typing import Iterable

import tensorflow as tf

from .bert_config import BertConfig
from .blocks import WeightInit
from .embeddings import Embeddings
from .off_ramp import OffRamp
from .transformer_layer import TransformerLayer

# The segment every off-ramp bypass weight has in its name (``off_ramps/<i>/bypass/...``).
BYPASS_SEGMENT = "/bypass/"
# Name suffixes of the fused query/key/value projection and of the three separate ones.
FUSED_QKV = "/attention/query_key_value/"
SEPARATE_QKV = ("/attention/query/", "/attention/key/", "/attention/value/")


class DeeBertModel(tf.Module):
    """Embeddings, n transformer layers and n off-ramps; off-ramp i reads layer i's [CLS] vector
    (position 0). The last off-ramp is the original classifier.

    Weight names (:meth:`named_variables`; also the object paths below the export module's ``model/``
    in a SavedModel or training checkpoint): ``embeddings/...`` (:class:`~.embeddings.Embeddings`),
    ``layers/<i>/attention/...`` and ``layers/<i>/ffn/...`` (:class:`~.transformer_layer.TransformerLayer`),
    ``off_ramps/<i>/pooler/...``, ``off_ramps/<i>/classifier/...`` and ``off_ramps/<i>/bypass/...``
    (:class:`~.off_ramp.OffRamp`), i 0-based.

    Initial values come from one seeded generator (:class:`~.blocks.WeightInit`), drawn in this order:
    embeddings, layers 0..n-1, off-ramps 0..n-1, then the bypasses of off-ramps 0..n-2. The bypasses are
    drawn last so that a model without them starts from exactly the same values as one with them, apart
    from the bypasses.

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
        fused_qkv: store each layer's query/key/value projections as one (H, 3H) matrix (the inference
            layout the export writes) instead of three (H, H) ones (the training layout, the
            checkpoint's); same maths (:class:`~.attention.SelfAttention`).
        off_ramp_bypass_rank: 0 (default: plain DeeBERT off-ramps) or r >= 1: off-ramps 1..n-1 (0-based
            0..n-2) get a block-wise bypass of rank r on their [CLS] vector, read before the pooler (our
            interpretation of BADGE, Zhu et al. ACL 2023; :class:`~.bypass.Bypass`,
            ``docs/badge-bypass.md``). The last off-ramp (the original classifier) has none.
    Raises:
        ValueError: ``off_ramp_bypass_rank`` < 0.
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
        init = WeightInit(seed)
        n = config.num_hidden_layers
        self.embeddings = Embeddings(config, init, weight_dtype, self.word_embedding_dtype)
        self.layers = [TransformerLayer(config, init, f"layers/{i}", weight_dtype, fused_qkv) for i in range(n)]
        self.off_ramps = [OffRamp(config, num_labels, init, f"off_ramps/{i}", weight_dtype) for i in range(n)]
        for ramp in self.off_ramps[:-1] if self.off_ramp_bypass_rank else ():
            ramp.attach_bypass(init, self.off_ramp_bypass_rank, weight_dtype)

    # ----------------------------------------------------------------------------------- variables
    @property
    def num_layers(self) -> int:
        return self.config.num_hidden_layers

    def named_variables(self) -> dict[str, tf.Variable]:
        """Every weight under its name (see the class docstring), in creation order except that each
        off-ramp's bypass follows its classifier."""
        out = {f"embeddings/{k}": v for k, v in self.embeddings.named_variables().items()}
        for i, layer in enumerate(self.layers):
            out.update({f"layers/{i}/{k}": v for k, v in layer.named_variables().items()})
        for i, ramp in enumerate(self.off_ramps):
            out.update({f"off_ramps/{i}/{k}": v for k, v in ramp.named_variables().items()})
        return out

    def encoder_variables(self) -> list[tf.Variable]:
        """Embeddings and all transformer layers (trained in stage 1 only)."""
        out = list(self.embeddings.named_variables().values())
        for layer in self.layers:
            out.extend(layer.named_variables().values())
        return out

    def off_ramp_variables(self, indices: Iterable[int]) -> list[tf.Variable]:
        """Weights of the off-ramps with the given 0-based indices, bypasses included."""
        return [v for i in indices for v in self.off_ramps[i].named_variables().values()]

    def bypass_variables(self) -> list[tf.Variable]:
        """The off-ramp bypass weights (empty without bypasses); a subset of :meth:`off_ramp_variables`."""
        return [v for ramp in self.off_ramps if ramp.bypass is not None for v in ramp.bypass.named_variables().values()]

    def copy_weights_from(self, other: "DeeBertModel", keep_new_bypasses: bool = False) -> None:
        """Assigns every weight of ``other`` (same architecture) to this model, casting to this dtype; a
        fused query/key/value weight is filled from ``other``'s separate query, key and value weights.

        Args:
            keep_new_bypasses: when this model has off-ramp bypasses and ``other`` has none, keep this
                model's (freshly initialised) bypass weights instead of failing: how bypasses are added
                to a model loaded from a pre-trained checkpoint.
        Raises:
            KeyError: a weight of this model has no counterpart in ``other``.
        """
        mine, theirs = self.named_variables(), other.named_variables()
        for name, v in mine.items():
            if name not in theirs and keep_new_bypasses and BYPASS_SEGMENT in name:
                continue
            if name not in theirs and FUSED_QKV in name:
                value = tf.concat([tf.cast(theirs[name.replace(FUSED_QKV, part)], tf.float32) for part in SEPARATE_QKV],
                                  axis=-1)
            else:
                value = theirs[name]
            v.assign(tf.cast(value, v.dtype))

    # ----------------------------------------------------------------------------------- forward
    def embed(self, input_ids: tf.Tensor, training: bool = False, attention_mask: tf.Tensor | None = None,
              token_type_ids: tf.Tensor | None = None) -> tf.Tensor:
        """The embedding layer: float32 (B, T, H) from int32 (B, T) ids (:meth:`.embeddings.Embeddings.__call__`
        documents the arguments).

        Raises:
            ValueError: for a RoBERTa model called without ``attention_mask``.
        """
        return self.embeddings(input_ids, training, attention_mask=attention_mask, token_type_ids=token_type_ids)

    def layer(self, i: int, hidden: tf.Tensor, attention_mask: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Transformer layer i (0-based).

        Args:
            hidden: float32 (B, T, H), the previous layer's output.
            attention_mask: int32 (B, T), 1 for real tokens and 0 for padding.
        Returns:
            float32 (B, T, H).
        """
        return self.layers[i](hidden, attention_mask, training)

    def off_ramp(self, i: int, cls_vector: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Off-ramp i (0-based) on layer i's [CLS] vector: [bypass, if the model has them and i < n-1],
        pooler (dense H->H + tanh), dropout, linear H->C.

        Args:
            cls_vector: float32 (B, H), ``hidden[:, 0, :]`` of layer i's output.
        Returns:
            float32 (B, C) logits.
        """
        return self.off_ramps[i](cls_vector, training)

    def bypass(self, i: int, cls_vector: tf.Tensor) -> tf.Tensor:
        """Off-ramp i's bypass alone (:class:`~.bypass.Bypass`): float32 (B, H) -> float32 (B, H).

        Raises:
            KeyError: off-ramp i has no bypass.
        """
        ramp = self.off_ramps[i]
        if ramp.bypass is None:
            raise KeyError(f"off-ramp {i} has no bypass")
        return ramp.bypass(cls_vector)

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
