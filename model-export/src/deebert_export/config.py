"""Training hyper-parameters, in a module of their own so the CLI can build its options (and
``prepare`` can run and fail fast) without importing TensorFlow."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class TrainConfig:
    """Hyper-parameters of both stages (recorded in the model card)."""

    max_seq_length: int = 128          # tokens incl. [CLS]/[SEP]
    batch_size: int = 16
    stage1_epochs: float = 1.0         # fractional epochs allowed (e.g. 0.5)
    stage1_learning_rate: float = 5e-5
    stage2_epochs: int = 30
    stage2_learning_rate: float = 1e-2   # early layers' [CLS] vectors vary little: off-ramps need large weights
    stage2_batch_size: int = 64
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_train_examples: int | None = None   # stratified cap on the training set (CPU time budget)
    seed: int = 13
