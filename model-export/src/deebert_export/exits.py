"""The exit maths, defined once on the Python side: off-ramp scores, exit policies, exit layers and the
expected saving. ``evaluate``, ``export`` (the SavedModel's ``entropy`` output) and ``golden`` use it;
the Java runtime has its own single copy (``exit/ExitScores.java``, ``ExitPolicy.java``,
``ExitSetting.java``), checked against the golden file this module writes (``tests/golden/exit_policies.json``).

Shapes: ``N`` = inputs, ``n`` = layers (= off-ramps), ``C`` = labels. Layers are 1-based wherever a
value leaves this module (``exit layer``); array axes are 0-based.

Policies (the string names are the model card's; Java's enum ``ExitPolicy`` spells them upper case):

- ``entropy`` (DeeBERT, Xin et al. 2020, section 3.2, Algorithm 1): score at layer i =
  ``H_i = -sum_c p_c ln p_c`` of off-ramp i, in nats, range [0, ln C]; exit when ``H_i < S_i``.
- ``divergence`` (BADGE-style, Zhu et al. 2023): score at layer i >= 2 = Jensen-Shannon divergence
  between off-ramps i and i-1, in nats, range [0, ln 2]; **layer 1 scores +inf**, so it never exits
  there (there is no earlier off-ramp); exit when ``D_i < S_i``.
- ``patience`` (PABEE, Zhou et al. 2020, section 3.2): score at layer i = the number of consecutive
  earlier off-ramps whose predicted label equals off-ramp i's (0 at layer 1), in layers; exit when the
  score reaches the patience ``t`` (an integer >= 1), i.e. at the first layer i where the labels of
  off-ramps i-t..i are all equal. ``t`` is carried in the threshold field.

Per-layer thresholds (entropy and divergence only; the Hugging Face DeeBERT code accepts one list of
``early_exit_entropy`` values): ``S_i`` replaces S at layer i.

Label-conditional thresholds (entropy and divergence only, not together with per-layer thresholds): one S
per label, ``S^(c)``; at layer i an input may leave when its score is below ``S^(y_i)``, where ``y_i`` is
off-ramp i's predicted label. Why: in moderation a benign answer that leaves early and is wrong lets harm
through, while a harmful answer that leaves early and is wrong costs a review; so the benign label gets a
strict S and the harmful label a looser one. The early-exit papers (DeeBERT, PABEE, BADGE) use one S for
every label. Exit means strictly below S, so S = 0
never exits early; the last off-ramp always takes whoever is left. Predicted label = argmax of the
off-ramp's logits with ties going to the **lowest** label index (``np.argmax``; Java does the same).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np

ENTROPY = "entropy"
DIVERGENCE = "divergence"
PATIENCE = "patience"
POLICIES = (ENTROPY, DIVERGENCE, PATIENCE)
#: Policies whose threshold is in nats and may be given per layer.
SCORE_POLICIES = (ENTROPY, DIVERGENCE)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """``log softmax`` over the last axis, float64-stable (max subtracted first). Shape unchanged."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, float64, shape unchanged."""
    return np.exp(log_softmax(logits))


def entropy(logits: np.ndarray) -> np.ndarray:
    """Entropy of softmax(logits) in nats, ``-sum_c p_c ln p_c`` (DeeBERT section 3.2).

    Args:
        logits: float (..., C).
    Returns:
        float64 (...), in [0, ln C]. From log-softmax, so p = 0 gives 0, never NaN.
    """
    log_p = log_softmax(logits)
    return -(np.exp(log_p) * log_p).sum(axis=-1)


def entropy_tf(logits):
    """The same entropy as a TensorFlow op, for the exported ``layer_i`` signatures' ``entropy`` output
    (which the Java runtime reads instead of recomputing it).

    Args:
        logits: ``tf.Tensor`` float32 (..., C).
    Returns:
        ``tf.Tensor`` float32 (...), nats, in [0, ln C].
    """
    import tensorflow as tf  # here, so the numpy maths (golden file, evaluation) does not load TF

    log_p = tf.nn.log_softmax(logits, axis=-1)
    return -tf.reduce_sum(tf.exp(log_p) * log_p, axis=-1)


def js_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence ``0.5 KL(p||m) + 0.5 KL(q||m)``, ``m = (p+q)/2``, over the last axis.

    Args:
        p, q: probabilities, same shape (..., C).
    Returns:
        float64 (...), nats, in [0, ln 2]. Terms with a zero probability contribute 0.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    m = 0.5 * (p + q)

    def kl(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(a > 0, a * (np.log(a) - np.log(b)), 0.0)
        return t.sum(axis=-1)

    return np.maximum(0.0, 0.5 * kl(p, m) + 0.5 * kl(q, m))


def predicted_labels(all_logits: np.ndarray) -> np.ndarray:
    """Argmax label per off-ramp; a tie goes to the lowest label index. float (N, n, C) -> int (N, n)."""
    return np.asarray(all_logits).argmax(axis=-1)


def agreeing_streak(all_logits: np.ndarray) -> np.ndarray:
    """PABEE's counter: at layer i, how many consecutive earlier off-ramps (i-1, i-2, ...) predict the
    same label as off-ramp i; 0 at layer 1 and after every change. float (N, n, C) -> int (N, n), layers."""
    labels = predicted_labels(all_logits)
    streak = np.zeros(labels.shape, dtype=np.int64)
    for i in range(1, labels.shape[1]):
        streak[:, i] = np.where(labels[:, i] == labels[:, i - 1], streak[:, i - 1] + 1, 0)
    return streak


def exit_scores(all_logits: np.ndarray, policy: str) -> np.ndarray:
    """Per-input, per-layer score of a policy (see the module docstring).

    Args:
        all_logits: float (N, n, C), every off-ramp's logits.
        policy: ``entropy``, ``divergence`` or ``patience``.
    Returns:
        float64 (N, n): nats (entropy, divergence; divergence is +inf at layer 1) or layers (patience).
    Raises:
        ValueError: unknown policy.
    """
    all_logits = np.asarray(all_logits)
    if policy == ENTROPY:
        return entropy(all_logits)
    if policy == DIVERGENCE:
        p = softmax(all_logits)
        div = js_divergence(p[:, 1:, :], p[:, :-1, :])
        return np.concatenate([np.full((len(p), 1), np.inf), div], axis=1)
    if policy == PATIENCE:
        return agreeing_streak(all_logits).astype(np.float64)
    raise ValueError(f"unknown exit policy {policy!r}; known: {POLICIES}")


@dataclasses.dataclass(frozen=True)
class ExitSetting:
    """An exit rule: a policy and its threshold.

    Attributes:
        policy: ``entropy``, ``divergence`` or ``patience``.
        threshold: S in nats (>= 0, finite) for entropy/divergence; the patience t in layers (an
            integer 1..n) for patience.
        layer_thresholds: optional S_1..S_n in nats (each >= 0, finite), entropy/divergence only;
            replaces ``threshold`` at every layer when given.
        label_thresholds: optional S^(0)..S^(C-1) in nats (each >= 0, finite), indexed by label index,
            entropy/divergence only, not with ``layer_thresholds``; at every layer the S of the label the
            off-ramp predicts replaces ``threshold``.
    """
    policy: str
    threshold: float
    layer_thresholds: tuple[float, ...] | None = None
    label_thresholds: tuple[float, ...] | None = None

    def validate(self, num_layers: int, num_labels: int | None = None) -> "ExitSetting":
        """Returns self if valid for an n-layer model with C labels; the same rules as Java's
        ``ExitSetting`` / ``ControlMessageValidator``.

        Args:
            num_layers: n.
            num_labels: C; needed only to check the length of ``label_thresholds`` (skipped when None).
        Raises:
            ValueError: unknown policy; S negative, NaN or infinite; patience not an integer in 1..n;
                a per-layer list with patience, of length != n, or with a value < 0 or not finite;
                a per-label list with patience, with a per-layer list, of length != C, or with a
                value < 0 or not finite.
        """
        if self.policy not in POLICIES:
            raise ValueError(f"unknown exit policy {self.policy!r}; known: {POLICIES}")
        s = self.threshold
        if not math.isfinite(s) or s < 0:
            raise ValueError(f"threshold must be a finite number >= 0, got {s}")
        if self.policy == PATIENCE:
            if s != int(s) or not 1 <= s <= num_layers:
                raise ValueError(f"patience must be an integer in 1..{num_layers} (layers), got {s}")
            if self.layer_thresholds is not None:
                raise ValueError("per-layer thresholds apply to entropy and divergence only, not patience")
        if self.layer_thresholds is not None:
            if len(self.layer_thresholds) != num_layers:
                raise ValueError(f"per-layer thresholds need {num_layers} values (one per layer), "
                                 f"got {len(self.layer_thresholds)}")
            for i, t in enumerate(self.layer_thresholds):
                if not math.isfinite(t) or t < 0:
                    raise ValueError(f"per-layer threshold S_{i + 1} must be a finite number >= 0, got {t}")
        if self.label_thresholds is not None:
            if self.policy == PATIENCE:
                raise ValueError("per-label thresholds apply to entropy and divergence only, not patience")
            if self.layer_thresholds is not None:
                raise ValueError("per-label and per-layer thresholds cannot be combined")
            if num_labels is not None and len(self.label_thresholds) != num_labels:
                raise ValueError(f"per-label thresholds need {num_labels} values (one per label), "
                                 f"got {len(self.label_thresholds)}")
            for c, t in enumerate(self.label_thresholds):
                if not math.isfinite(t) or t < 0:
                    raise ValueError(f"per-label threshold for label {c} must be a finite number >= 0, got {t}")
        return self

    def thresholds(self, num_layers: int) -> np.ndarray:
        """S_1..S_n as float64 (n,): the list when given, else ``threshold`` repeated."""
        if self.layer_thresholds is not None:
            return np.asarray(self.layer_thresholds, dtype=np.float64)
        return np.full(num_layers, float(self.threshold))


def exit_mask(scores: np.ndarray, setting: ExitSetting, predicted: np.ndarray | None = None) -> np.ndarray:
    """Where an input may leave: bool (N, n), before the last-layer rule.

    entropy/divergence: ``score_i < S_i`` (strictly), or ``score_i < S^(y_i)`` with per-label thresholds;
    patience: ``streak_i >= t``.

    Args:
        scores: float64 (N, n).
        setting: the setting to apply.
        predicted: int (N, n), each off-ramp's predicted label (:func:`predicted_labels`); needed only when
            the setting has per-label thresholds.
    Raises:
        ValueError: per-label thresholds without ``predicted``.
    """
    n = scores.shape[1]
    if setting.policy == PATIENCE:
        return scores >= setting.threshold
    if setting.label_thresholds is not None:
        if predicted is None:
            raise ValueError("per-label thresholds need every off-ramp's predicted label")
        return scores < np.asarray(setting.label_thresholds, dtype=np.float64)[np.asarray(predicted)]
    return scores < setting.thresholds(n)[None, :]


def exit_layers(all_logits: np.ndarray, setting: ExitSetting | float, policy: str = ENTROPY) -> np.ndarray:
    """1-based exit layer per input: the first layer the policy lets it leave, else n (Algorithm 1;
    the last off-ramp, the original classifier, takes whoever is left).

    Args:
        all_logits: float (N, n, C).
        setting: an :class:`ExitSetting`, or a bare S / patience with ``policy``.
        policy: used only when ``setting`` is a number.
    Returns:
        int (N,) in 1..n.
    Raises:
        ValueError: invalid setting for n layers (see :meth:`ExitSetting.validate`).
    """
    if not isinstance(setting, ExitSetting):
        setting = ExitSetting(policy, float(setting))
    all_logits = np.asarray(all_logits)
    setting.validate(all_logits.shape[1], all_logits.shape[2])
    predicted = predicted_labels(all_logits) if setting.label_thresholds is not None else None
    return exit_layers_from_scores(exit_scores(all_logits, setting.policy), setting, predicted)


def exit_layers_from_scores(scores: np.ndarray, setting: ExitSetting,
                            predicted: np.ndarray | None = None) -> np.ndarray:
    """:func:`exit_layers` on scores already computed with :func:`exit_scores` for ``setting.policy``,
    so a search over many settings of one policy computes the scores once.

    Args:
        scores: float64 (N, n), nats or layers as :func:`exit_scores` returns them.
        setting: the setting to apply.
        predicted: int (N, n) predicted labels (:func:`predicted_labels`); needed only with per-label
            thresholds.
    Returns:
        int (N,) in 1..n.
    Raises:
        ValueError: invalid setting for n layers (see :meth:`ExitSetting.validate`), or per-label
            thresholds without ``predicted``.
    """
    n = scores.shape[1]
    setting.validate(n)
    leave = exit_mask(scores, setting, predicted)
    leave[:, n - 1] = True
    return leave.argmax(axis=1) + 1


def expected_saving(exit_layer: np.ndarray, num_layers: int) -> float:
    """Expected saving, DeeBERT eq. 2 (section 4.2): ``1 - sum_i i*N_i / (n * N)``, the share of layer
    computations skipped (0 = none, 1 - 1/n = all exit at layer 1). Off-ramp cost is ignored, as in the
    paper. (The Hugging Face reference script logs the complement, layers run / layers total.)

    Args:
        exit_layer: int (N,), 1-based exit layers.
        num_layers: n.
    Returns:
        float in [0, 1 - 1/n]; 0.0 for N = 0.
    """
    exit_layer = np.asarray(exit_layer)
    if len(exit_layer) == 0:
        return 0.0
    return float(1.0 - np.sum(exit_layer) / (num_layers * len(exit_layer)))


def setting_grid(num_labels: int, num_layers: int, policy: str) -> list[float]:
    """Thresholds a sweep tries: for entropy/divergence 0, 40 geometric steps up to the score's maximum
    (ln C, ln 2) and just above it; for patience every t in 1..n."""
    if policy == PATIENCE:
        return [float(t) for t in range(1, num_layers + 1)]
    top = math.log(num_labels) if policy == ENTROPY else math.log(2)
    fine = np.geomspace(1e-4, top, 40)
    return [0.0] + [float(round(x, 6)) for x in fine] + [float(round(top * 1.01, 6))]

