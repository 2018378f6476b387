"""Training hyper-parameters, in a module of their own so the CLI can build its options (and
``prepare`` can run and fail fast) without importing TensorFlow."""
from __future__ import annotations

import dataclasses

# Training regimes (``TrainConfig.regime``):
TWO_STAGE = "two-stage"   # DeeBERT section 3.1: stage 1 = encoder + last off-ramp on L_n; stage 2 = frozen encoder,
                          # off-ramps 1..n-1 on sum_{i<n} L_i (eq. 1)
JOINT = "joint"           # one stage: encoder + every off-ramp on sum_{i=1}^{n} L_i (the joint-training baseline)
BYPASS = "bypass"         # JOINT with block-wise bypasses on off-ramps 1..n-1 and their gradient into the encoder
                          # scaled by bypass_beta (our reading of BADGE, Zhu et al. 2023: docs/badge-bypass.md)
REGIMES = (TWO_STAGE, JOINT, BYPASS)
_ONE_STAGE = (JOINT, BYPASS)


def _field(default, regimes=REGIMES, help=None, **metadata):
    """A config field used by ``regimes`` only; ``help`` is the CLI's help text."""
    return dataclasses.field(default=default, metadata={"regimes": regimes, "help": help, **metadata})


@dataclasses.dataclass
class TrainConfig:
    """Hyper-parameters of every training regime (recorded in train_config.json and the model card).

    Each field says which regimes use it; setting a field away from its default under a regime that
    does not use it raises ``ValueError`` (no option is accepted only to be ignored).

    Raises:
        ValueError: unknown ``regime``; ``bypass_rank`` < 1; ``bypass_beta`` outside [0, 1]; or a field
            set for a regime that ignores it.
    """

    max_seq_length: int = 128          # tokens incl. [CLS]/[SEP]
    batch_size: int = 16
    # Stage 1 of two-stage, and the only stage of joint/bypass (same steps, same batches: same budget).
    stage1_epochs: float = 1.0         # fractional epochs allowed (e.g. 0.5)
    stage1_learning_rate: float = 5e-5   # encoder and last off-ramp (every regime)
    stage2_epochs: int = _field(30, (TWO_STAGE,))
    # early layers' [CLS] vectors vary little: off-ramps need large weights
    stage2_learning_rate: float = _field(1e-2, (TWO_STAGE,))
    stage2_batch_size: int = _field(64, (TWO_STAGE,))
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_train_examples: int | None = None   # stratified cap on the training set (CPU time budget)
    seed: int = 13
    regime: str = _field(TWO_STAGE, help="training regime: two-stage (DeeBERT section 3.1, default), joint "
                         "(encoder + all off-ramps on sum_i L_i in one stage) or bypass (joint with BADGE-style "
                         "block-wise bypasses, docs/badge-bypass.md)", choices=REGIMES)
    # Off-ramps 1..n-1 (and their bypasses) in the one-stage regimes; see docs/badge-bypass.md for the choice.
    joint_off_ramp_learning_rate: float = _field(
        1e-2, _ONE_STAGE, help="joint/bypass: peak learning rate of off-ramps 1..n-1 and their bypasses "
        "(the encoder and the last off-ramp use --stage1-learning-rate)")
    bypass_rank: int = _field(32, (BYPASS,), help="bypass: rank r of each off-ramp's bypass adapter")
    bypass_beta: float = _field(0.1, (BYPASS,), help="bypass: factor in [0, 1] on the gradient that off-ramps "
                                "1..n-1 send into the encoder (0 = cut, 1 = plain joint training)")

    def __post_init__(self):
        if self.regime not in REGIMES:
            raise ValueError(f"regime {self.regime!r}: choose one of {', '.join(REGIMES)}")
        if self.bypass_rank < 1:
            raise ValueError(f"bypass_rank {self.bypass_rank}: must be >= 1")
        if not 0.0 <= self.bypass_beta <= 1.0:
            raise ValueError(f"bypass_beta {self.bypass_beta}: must be in [0, 1]")
        for f in dataclasses.fields(self):
            if self.regime not in f.metadata.get("regimes", REGIMES) and getattr(self, f.name) != f.default:
                raise ValueError(f"{f.name} = {getattr(self, f.name)!r} has no effect with regime {self.regime!r} "
                                 f"(used by: {', '.join(f.metadata['regimes'])})")

    @property
    def off_ramp_bypass_rank(self) -> int:
        """Rank of the off-ramp bypasses the model is built with: ``bypass_rank`` under BYPASS, else 0."""
        return self.bypass_rank if self.regime == BYPASS else 0
