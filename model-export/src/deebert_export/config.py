"""Training hyper-parameters, in a module of their own so the CLI can build its options (and
``prepare`` can run and fail fast) without importing TensorFlow."""
from __future__ import annotations

import dataclasses
import math

# Training regimes (``TrainConfig.regime``):
TWO_STAGE = "two-stage"   # DeeBERT section 3.1: stage 1 = encoder + last off-ramp on L_n; stage 2 = frozen encoder,
                          # off-ramps 1..n-1 on sum_{i<n} L_i (eq. 1)
JOINT = "joint"           # one stage: encoder + every off-ramp on sum_{i=1}^{n} L_i (the joint-training baseline)
BYPASS = "bypass"         # JOINT with block-wise bypasses on off-ramps 1..n-1 and their gradient into the encoder
                          # scaled by bypass_beta (our reading of BADGE, Zhu et al. 2023: docs/badge-bypass.md)
REGIMES = (TWO_STAGE, JOINT, BYPASS)
_ONE_STAGE = (JOINT, BYPASS)

#: ``--class-weight auto`` turns into ``balanced`` when the smallest label has fewer than this fraction of the
#: training rows, else into ``none``. 20 %: below it a two-class model can reach 80 % accuracy by never
#: predicting the small label, and unweighted cross-entropy then pulls towards doing so.
AUTO_BALANCE_BELOW = 0.20
CLASS_WEIGHT_MODES = ("auto", "balanced", "none")
#: ``--select-on`` metrics computed on dev (``recall:LABEL`` is the third form); ``last`` keeps the final weights.
SELECT_METRICS = ("macro-f1", "accuracy")
SELECT_LAST = "last"


def _field(default, regimes=REGIMES, help=None, **metadata):
    """A config field used by ``regimes`` only; ``help`` is the CLI's help text."""
    return dataclasses.field(default=default, metadata={"regimes": regimes, "help": help, **metadata})


@dataclasses.dataclass
class TrainConfig:
    """Hyper-parameters of every training regime (recorded in train_config.json and the model card).

    Each field says which regimes use it; setting a field away from its default under a regime that
    does not use it raises ``ValueError`` (no option is accepted only to be ignored).

    Raises:
        ValueError: unknown ``regime``; ``bypass_rank`` < 1; ``bypass_beta`` outside [0, 1]; a field
            set for a regime that ignores it; a malformed ``class_weight`` or ``select_on``;
            ``evals_per_epoch`` < 1; ``max_select_examples`` < 1.
    """

    max_seq_length: int = _field(128, help="tokens per input, [CLS] and [SEP] included; longer inputs are cut")
    batch_size: int = _field(16, help="training batch size of stage 1 (and of joint/bypass)")
    # Stage 1 of two-stage, and the only stage of joint/bypass (same steps, same batches: same budget).
    stage1_epochs: float = _field(1.0, help="epochs of stage 1 (joint/bypass: of the one stage); fractions "
                                  "allowed, e.g. 0.5")
    stage1_learning_rate: float = _field(5e-5, help="peak learning rate of the encoder and the last off-ramp "
                                         "(every regime; linear warm-up, then linear decay to 0)")
    stage2_epochs: int = _field(30, (TWO_STAGE,), help="two-stage: epochs of stage 2 (off-ramps 1..n-1 on "
                                "cached [CLS] vectors)")
    # early layers' [CLS] vectors vary little: off-ramps need large weights
    stage2_learning_rate: float = _field(1e-2, (TWO_STAGE,), help="two-stage: peak learning rate of stage 2")
    stage2_batch_size: int = _field(64, (TWO_STAGE,), help="two-stage: batch size of stage 2")
    warmup_ratio: float = _field(0.1, help="fraction of each stage's steps spent warming the learning rate up")
    weight_decay: float = _field(0.01, help="AdamW weight decay")
    max_train_examples: int | None = _field(None, help="stratified cap on the training rows, for a CPU time "
                                            "budget (default: all rows)")
    seed: int = _field(13, help="seed of the new weights, the batch order and the dev sample of --select-on "
                       "(run: also of prepare's split and samples)")
    regime: str = _field(TWO_STAGE, help="training regime: two-stage (DeeBERT section 3.1), joint "
                         "(encoder + all off-ramps on sum_i L_i in one stage) or bypass (joint with BADGE-style "
                         "block-wise bypasses, docs/badge-bypass.md)", choices=REGIMES)
    # Off-ramps 1..n-1 (and their bypasses) in the one-stage regimes; see docs/badge-bypass.md for the choice.
    joint_off_ramp_learning_rate: float = _field(
        1e-2, _ONE_STAGE, help="joint/bypass: peak learning rate of off-ramps 1..n-1 and their bypasses "
        "(the encoder and the last off-ramp use --stage1-learning-rate)")
    bypass_rank: int = _field(32, (BYPASS,), help="bypass: rank r of each off-ramp's bypass adapter")
    bypass_beta: float = _field(0.1, (BYPASS,), help="bypass: factor in [0, 1] on the gradient that off-ramps "
                                "1..n-1 send into the encoder (0 = cut, 1 = plain joint training)")
    class_weight: str = _field(
        "auto", metavar="auto|balanced|none|LABEL:W,...",
        help="weights per label in every off-ramp's cross-entropy (stage 1, stage 2, joint/bypass): balanced = "
        "n_rows / (n_labels * n_rows_of_label) on the training rows (sklearn's rule); none = all 1; LABEL:W,... "
        "= the given weights, unlisted labels 1; auto = balanced when the smallest label is under "
        f"{AUTO_BALANCE_BELOW:.0%} of the training rows, else none. The choice is printed on stderr and "
        "recorded with the weights in the model card's training section")
    select_on: str = _field(
        "macro-f1", metavar="macro-f1|accuracy|recall:LABEL|last",
        help="checkpoint selection: the dev metric of the last off-ramp evaluated --evals-per-epoch times per "
        "epoch during stage 1 (joint/bypass: during the one stage); the weights of the best evaluation are "
        "kept (ties: the later one); last = no dev evaluation, keep the final weights")
    evals_per_epoch: int = _field(4, help="dev evaluations per epoch for --select-on (the last step is always "
                                  "evaluated)")
    max_select_examples: int | None = _field(
        2000, help="--select-on evaluates at most this many dev rows (a seeded sample with every label's "
        "share kept): each evaluation costs a forward pass over them")

    def __post_init__(self):
        if self.regime not in REGIMES:
            raise ValueError(f"regime {self.regime!r}: choose one of {', '.join(REGIMES)}")
        if self.bypass_rank < 1:
            raise ValueError(f"bypass_rank {self.bypass_rank}: must be >= 1")
        if not 0.0 <= self.bypass_beta <= 1.0:
            raise ValueError(f"bypass_beta {self.bypass_beta}: must be in [0, 1]")
        parse_class_weight(self.class_weight)
        parse_select_on(self.select_on)
        if self.evals_per_epoch < 1:
            raise ValueError(f"evals_per_epoch {self.evals_per_epoch}: must be >= 1 (--select-on last "
                             "evaluates nothing)")
        if self.max_select_examples is not None and self.max_select_examples < 1:
            raise ValueError(f"max_select_examples {self.max_select_examples}: must be >= 1")
        if self.select_on == SELECT_LAST:
            for name in ("evals_per_epoch", "max_select_examples"):
                default = next(f.default for f in dataclasses.fields(self) if f.name == name)
                if getattr(self, name) != default:
                    raise ValueError(f"{name} = {getattr(self, name)!r} has no effect with select_on "
                                     f"{SELECT_LAST!r} (nothing is evaluated during training)")
        for f in dataclasses.fields(self):
            if self.regime not in f.metadata.get("regimes", REGIMES) and getattr(self, f.name) != f.default:
                raise ValueError(f"{f.name} = {getattr(self, f.name)!r} has no effect with regime {self.regime!r} "
                                 f"(used by: {', '.join(f.metadata['regimes'])})")

    @property
    def off_ramp_bypass_rank(self) -> int:
        """Rank of the off-ramp bypasses the model is built with: ``bypass_rank`` under BYPASS, else 0."""
        return self.bypass_rank if self.regime == BYPASS else 0


def parse_class_weight(spec: str) -> str | dict[str, float]:
    """Parses ``--class-weight``: ``"auto"``, ``"balanced"`` or ``"none"`` as they are, or
    ``"LABEL:W,..."`` as ``{label: weight}`` (weights finite and > 0; a label may itself contain ':',
    the weight follows the last one).

    Raises:
        ValueError: an empty item, a missing or non-numeric weight, a weight <= 0 or not finite, or a
            label given twice.
    """
    if spec in CLASS_WEIGHT_MODES:
        return spec
    weights: dict[str, float] = {}
    for item in spec.split(","):
        label, sep, value = item.strip().rpartition(":")
        try:
            weight = float(value)
        except ValueError:
            weight = float("nan")
        if not sep or not label or not (math.isfinite(weight) and weight > 0):
            raise ValueError(f"class_weight {spec!r}: give auto, balanced, none or LABEL:W,... with each W a "
                             f"number > 0 (bad item {item.strip()!r})")
        if label in weights:
            raise ValueError(f"class_weight {spec!r}: label {label!r} given twice")
        weights[label] = weight
    return weights


def resolve_class_weights(spec: str, labels: list[str], counts: dict[str, int]) -> dict:
    """The class weights ``spec`` (``--class-weight``) gives for these training rows.

    Args:
        spec: as :func:`parse_class_weight` accepts.
        labels: the task's labels in logits order, length C.
        counts: training rows per label (after any ``max_train_examples`` cap).
    Returns:
        ``{"option": spec, "resolved": "balanced" | "none" | "given", "rule": why (auto only),
        "weights": {label: float} in logits order (all 1.0 for none), "train_counts": {label: int}}``.
    Raises:
        ValueError: a malformed ``spec``, a label in it the task does not have, or ``balanced`` with a label
            that has no training row (its weight would be infinite).
    """
    import numpy as np
    from sklearn.utils.class_weight import compute_class_weight

    parsed = parse_class_weight(spec)
    total = sum(counts.get(label, 0) for label in labels)
    out = {"option": spec, "train_counts": {label: int(counts.get(label, 0)) for label in labels}}
    mode = parsed if isinstance(parsed, str) else "given"
    if mode == "auto":
        smallest = min(labels, key=lambda label: counts.get(label, 0))
        share = counts.get(smallest, 0) / total if total else 0.0
        mode = "balanced" if share < AUTO_BALANCE_BELOW else "none"
        out["rule"] = (f"auto: the smallest label {smallest!r} is {share:.1%} of {total} training rows, "
                       f"{'under' if mode == 'balanced' else 'not under'} {AUTO_BALANCE_BELOW:.0%}, so {mode}")
    if mode == "balanced":
        missing = [label for label in labels if not counts.get(label)]
        if missing:
            raise ValueError(f"class_weight balanced: label {missing[0]!r} has no training row")
        y = np.repeat(np.arange(len(labels)), [counts[label] for label in labels])
        values = compute_class_weight("balanced", classes=np.arange(len(labels)), y=y)
        weights = {label: float(w) for label, w in zip(labels, values)}
    elif mode == "none":
        weights = {label: 1.0 for label in labels}
    else:
        unknown = [label for label in parsed if label not in labels]
        if unknown:
            raise ValueError(f"--class-weight {spec!r}: {unknown[0]!r} is not a label of this task; its labels "
                             f"are {', '.join(labels)}")
        weights = {label: float(parsed.get(label, 1.0)) for label in labels}
    out["resolved"] = mode
    out["weights"] = weights
    return out


def parse_select_on(spec: str) -> tuple[str, str | None]:
    """Parses ``--select-on``: ``("macro-f1" | "accuracy" | "last", None)`` or ``("recall", LABEL)``.

    Raises:
        ValueError: any other value, or ``recall:`` without a label.
    """
    if spec in SELECT_METRICS or spec == SELECT_LAST:
        return spec, None
    kind, sep, label = spec.partition(":")
    if kind == "recall" and sep and label:
        return "recall", label
    raise ValueError(f"select_on {spec!r}: give macro-f1, accuracy, recall:LABEL or last")


def check_select_on(spec: str, labels: list[str]) -> None:
    """Checks that ``recall:LABEL`` names one of ``labels``.

    Raises:
        ValueError: a malformed ``spec`` or an unknown label.
    """
    kind, label = parse_select_on(spec)
    if kind == "recall" and label not in labels:
        raise ValueError(f"--select-on {spec!r}: {label!r} is not a label of this task; its labels are "
                         f"{', '.join(labels)}")
