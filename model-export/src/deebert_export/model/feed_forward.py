"""The position-wise feed-forward block of a transformer layer (Vaswani et al. 2017, section 3.3;
BERT's ``BertIntermediate`` + ``BertOutput``)."""
from __future__ import annotations

import tensorflow as tf

from .bert_config import BertConfig
from .blocks import Dense, ResidualOutput, WeightInit, activation, prefixed


class FeedForward(tf.Module):
    """``layer_norm(dropout(act(x @ W_1 + b_1) @ W_2 + b_2) + x)`` with I = ``intermediate_size``.

    Weights, created in this order (Hugging Face names in brackets, below ``encoder.layer.<i>.``):
    ``intermediate/kernel`` (H, I), ``intermediate/bias`` (I,) [``intermediate.dense``];
    ``output/dense/kernel`` (I, H), ``output/dense/bias`` (H,) [``output.dense``];
    ``output/layer_norm/gamma``, ``output/layer_norm/beta`` (H,) [``output.LayerNorm``].
    """

    def __init__(self, config: BertConfig, init: WeightInit, name: str, dtype):
        super().__init__(name=name.rsplit("/", 1)[-1])
        self.hidden_act = config.hidden_act
        H, I = config.hidden_size, config.intermediate_size
        self.intermediate = Dense(init, H, I, f"{name}/intermediate", dtype)
        self.output = ResidualOutput(init, I, H, config.layer_norm_eps, config.hidden_dropout_prob,
                                     f"{name}/output", dtype)

    def __call__(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        """float32 (B*T, H) -> float32 (B*T, H)."""
        return self.output(activation(self.intermediate(x), self.hidden_act), x, training)

    def named_variables(self) -> dict[str, tf.Variable]:
        return prefixed({"intermediate": self.intermediate, "output": self.output})
