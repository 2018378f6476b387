"""The block-wise bypass of an off-ramp: our reading of BADGE (Zhu et al., ACL 2023); the design and
where it departs from the paper are in ``docs/badge-bypass.md``."""
from __future__ import annotations

import tensorflow as tf

from .blocks import Dense, WeightInit, prefixed


class Bypass(tf.Module):
    """A low-rank residual adapter on an off-ramp's [CLS] vector only:
    ``h + W_up gelu(W_down h + b_down) + b_up``, with rank r.

    Weights, created in this order: ``down/kernel`` (H, r) normal (std 0.02), ``down/bias`` (r,),
    ``up/kernel`` (r, H) and ``up/bias`` (H,). Both ``up`` weights start at zero, so a new bypass is the
    identity and adding one leaves the model's outputs unchanged until it is trained.

    Cost: two (B, H) x (H, r) / (r, H) matmuls, 2*2*H*r FLOPs per example (49 k for H=384, r=32),
    against ~3.5 M FLOPs per token for a transformer layer's dense projections.

    Args:
        rank: r >= 1.
    """

    def __init__(self, init: WeightInit, hidden_size: int, rank: int, name: str, dtype):
        super().__init__(name=name.rsplit("/", 1)[-1])
        self.down = Dense(init, hidden_size, rank, f"{name}/down", dtype)
        self.up = Dense(init, rank, hidden_size, f"{name}/up", dtype, zero_kernel=True)

    @property
    def rank(self) -> int:
        return int(self.down.kernel.shape[1])

    def __call__(self, cls_vector: tf.Tensor) -> tf.Tensor:
        """float32 (B, H) -> float32 (B, H); equal to ``cls_vector`` while both ``up`` weights are zero."""
        return cls_vector + self.up(tf.nn.gelu(self.down(cls_vector)))

    def named_variables(self) -> dict[str, tf.Variable]:
        return prefixed({"down": self.down, "up": self.up})
