"""A DeeBERT off-ramp: the classifier that reads one transformer layer's [CLS] vector (Xin et al. 2020,
section 3 and Fig. 1)."""
from __future__ import annotations

import tensorflow as tf

from .bert_config import BertConfig
from .blocks import Dense, WeightInit, dropout, prefixed
from .bypass import Bypass


class OffRamp(tf.Module):
    """``classifier(dropout(tanh(pooler(h))))`` on the [CLS] vector h of its layer, with, when the model
    has them, a :class:`~.bypass.Bypass` applied to h first. The last off-ramp is the original BERT
    classifier (pooler + linear head).

    Weights, created in this order: ``pooler/kernel`` (H, H) and ``pooler/bias`` (H,) (Hugging Face's
    ``pooler.dense``, which every off-ramp starts from when the checkpoint has one), ``classifier/kernel``
    (H, C) and ``classifier/bias`` (C,); then, only after :meth:`attach_bypass`, ``bypass/...``.

    Args:
        num_labels: C.
    """

    def __init__(self, config: BertConfig, num_labels: int, init: WeightInit, name: str, dtype):
        super().__init__(name=name.replace("/", "_"))
        self.dropout_rate = config.hidden_dropout_prob
        H = config.hidden_size
        self.pooler = Dense(init, H, H, f"{name}/pooler", dtype)
        self.classifier = Dense(init, H, num_labels, f"{name}/classifier", dtype)
        self.bypass: Bypass | None = None
        self._name_prefix = name

    def attach_bypass(self, init: WeightInit, rank: int, dtype) -> None:
        """Gives this off-ramp a new :class:`~.bypass.Bypass` of rank ``rank`` (identity until trained)."""
        self.bypass = Bypass(init, int(self.pooler.kernel.shape[0]), rank, f"{self._name_prefix}/bypass", dtype)

    def __call__(self, cls_vector: tf.Tensor, training: bool = False) -> tf.Tensor:
        """float32 (B, H) [CLS] vector -> float32 (B, C) logits."""
        if self.bypass is not None:
            cls_vector = self.bypass(cls_vector)
        pooled = tf.tanh(self.pooler(cls_vector))
        pooled = dropout(pooled, self.dropout_rate, training)
        return self.classifier(pooled)

    def named_variables(self) -> dict[str, tf.Variable]:
        parts = {"pooler": self.pooler, "classifier": self.classifier}
        if self.bypass is not None:
            parts["bypass"] = self.bypass
        return prefixed(parts)
