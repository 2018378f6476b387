"""One transformer encoder layer: self-attention, then feed-forward (Vaswani et al. 2017, section 3.1;
BERT's ``BertLayer``)."""
from __future__ import annotations

import tensorflow as tf

from .attention import SelfAttention
from .bert_config import BertConfig
from .blocks import WeightInit, prefixed
from .feed_forward import FeedForward


class TransformerLayer(tf.Module):
    """:class:`~.attention.SelfAttention` then :class:`~.feed_forward.FeedForward`.

    Weights: ``attention/...`` then ``ffn/...`` (see those classes), created in that order.
    """

    def __init__(self, config: BertConfig, init: WeightInit, name: str, dtype, fused_qkv: bool = False):
        super().__init__(name=name.replace("/", "_"))
        self.hidden_size = config.hidden_size
        self.attention = SelfAttention(config, init, f"{name}/attention", dtype, fused_qkv)
        self.ffn = FeedForward(config, init, f"{name}/ffn", dtype)

    def __call__(self, hidden: tf.Tensor, attention_mask: tf.Tensor, training: bool = False) -> tf.Tensor:
        """The layer's output.

        Args:
            hidden: float32 (B, T, H), the previous layer's output (or the embeddings).
            attention_mask: int32 (B, T), 1 for real tokens and 0 for padding.
        Returns:
            float32 (B, T, H).
        """
        B, T = tf.shape(hidden)[0], tf.shape(hidden)[1]
        # Every dense layer runs on the (B*T, H) matrix: a 2-D MatMul + BiasAdd is what oneDNN fuses
        # (with the GELU too); a (B, T, H) x (H, H') matmul becomes a broadcast BatchMatMulV2 plus a
        # separate AddV2. Same maths, rounding differences ~1e-6.
        x = tf.reshape(hidden, [B * T, self.hidden_size])
        out = self.ffn(self.attention(x, B, T, attention_mask, training), training)
        return tf.reshape(out, [B, T, self.hidden_size])

    def named_variables(self) -> dict[str, tf.Variable]:
        return prefixed({"attention": self.attention, "ffn": self.ffn})
