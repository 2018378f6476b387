"""Multi-head self-attention with its output step (Vaswani et al. 2017, section 3.2; BERT's
``BertAttention``: self-attention, then dense + dropout + residual + layer norm)."""
from __future__ import annotations

import math

import tensorflow as tf

from .bert_config import BertConfig
from .blocks import Dense, ResidualOutput, WeightInit, as_float32, dropout, prefixed

# Large negative added to attention scores of padding positions before the softmax, so padding gets
# ~0 weight (BERT's additive mask trick; exp(-1e9) underflows to exactly 0 in float32).
MASK_NEG = -1e9


class SelfAttention(tf.Module):
    """Scaled dot-product attention over ``num_attention_heads`` heads of size d = H / heads, then
    :class:`~.blocks.ResidualOutput`.

    Weights, created in this order (Hugging Face names in brackets, below ``encoder.layer.<i>.attention.``):
    ``query``, ``key``, ``value`` (each ``kernel`` (H, H) and ``bias`` (H,)) [``self.query``, ``self.key``,
    ``self.value``], or with ``fused_qkv`` instead ``query_key_value`` (``kernel`` (H, 3H), ``bias`` (3H,):
    the three side by side, query first); then ``output/dense`` (H, H) [``output.dense``] and
    ``output/layer_norm`` [``output.LayerNorm``].

    Args:
        fused_qkv: store the three projections as one matrix (the inference layout the export writes)
            instead of three (the training layout, the checkpoint's). The maths is the same either way:
            the layer always runs one (B*T, H) x (H, 3H) matmul, concatenating the three matrices on the
            fly in the training layout. One matmul three times as wide is ~10% faster per layer at batch 1
            on 2 CPU cores: oneDNN runs small matmuls single-threaded.
    """

    def __init__(self, config: BertConfig, init: WeightInit, name: str, dtype, fused_qkv: bool = False):
        super().__init__(name=name.rsplit("/", 1)[-1])
        self.config = config
        H = config.hidden_size
        if fused_qkv:
            self.query_key_value = Dense(init, H, 3 * H, f"{name}/query_key_value", dtype)
        else:
            self.query = Dense(init, H, H, f"{name}/query", dtype)
            self.key = Dense(init, H, H, f"{name}/key", dtype)
            self.value = Dense(init, H, H, f"{name}/value", dtype)
        self.output = ResidualOutput(init, H, H, config.layer_norm_eps, config.hidden_dropout_prob,
                                     f"{name}/output", dtype)

    @property
    def fused_qkv(self) -> bool:
        return hasattr(self, "query_key_value")

    def qkv_weights(self) -> tuple[tf.Tensor, tf.Tensor]:
        """The query/key/value projection as one float32 kernel (H, 3H) and bias (3H,), query first;
        in the training layout concatenated from the three separate weights."""
        if self.fused_qkv:
            return as_float32(self.query_key_value.kernel), as_float32(self.query_key_value.bias)
        kernel = tf.concat([as_float32(self.query.kernel), as_float32(self.key.kernel),
                            as_float32(self.value.kernel)], axis=1)
        bias = tf.concat([as_float32(self.query.bias), as_float32(self.key.bias), as_float32(self.value.bias)], axis=0)
        return kernel, bias

    def __call__(self, x: tf.Tensor, batch_size: tf.Tensor, seq_len: tf.Tensor, attention_mask: tf.Tensor,
                 training: bool = False) -> tf.Tensor:
        """Attention block of one transformer layer.

        Args:
            x: float32 (B*T, H), the layer's input flattened over batch and time (see
                :class:`~.transformer_layer.TransformerLayer` for why 2-D).
            batch_size, seq_len: B and T (int32 scalars).
            attention_mask: int32 (B, T), 1 for real tokens and 0 for padding; padding positions get no
                attention weight.
        Returns:
            float32 (B*T, H): ``layer_norm(dropout(context @ W_o + b_o) + x)``.
        """
        cfg = self.config
        B, T = batch_size, seq_len
        heads = cfg.num_attention_heads
        d = cfg.hidden_size // heads
        qkv_w, qkv_b = self.qkv_weights()
        qkv = tf.nn.bias_add(tf.matmul(x, qkv_w), qkv_b)                                 # (B*T, 3H)
        qkv = tf.transpose(tf.reshape(qkv, [B, T, 3, heads, d]), [2, 0, 3, 1, 4])      # (3, B, heads, T, d)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = tf.matmul(q, k, transpose_b=True) / math.sqrt(d)          # (B, heads, T, T)
        mask = tf.cast(attention_mask, tf.float32)[:, tf.newaxis, tf.newaxis, :]  # (B, 1, 1, T)
        scores += (1.0 - mask) * MASK_NEG
        probs = dropout(tf.nn.softmax(scores, axis=-1), cfg.attention_probs_dropout_prob, training)
        context = tf.reshape(tf.transpose(tf.matmul(probs, v), [0, 2, 1, 3]), [B * T, cfg.hidden_size])
        return self.output(context, x, training)

    def named_variables(self) -> dict[str, tf.Variable]:
        projections = ({"query_key_value": self.query_key_value} if self.fused_qkv else
                       {"query": self.query, "key": self.key, "value": self.value})
        return prefixed({**projections, "output": self.output})
