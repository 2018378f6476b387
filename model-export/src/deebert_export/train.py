"""Fine-tuning regimes (``TrainConfig.regime``): DeeBERT's two-stage fine-tuning (Xin et al. 2020,
section 3.1; the default), and one-stage joint training of every off-ramp with or without BADGE-style
block-wise bypasses (:func:`train_joint`; ``docs/badge-bypass.md``).

Two-stage:

Stage 1: embeddings, every transformer layer and the LAST off-ramp (the original classifier) are
trained with the last off-ramp's cross-entropy L_n, exactly like ordinary BERT fine-tuning.
Stage 2: everything trained in stage 1 is frozen; off-ramps 1..n-1 are trained with
sum_{i=1}^{n-1} L_i (paper eq. 1). Because the encoder is frozen, every off-ramp only needs its
layer's [CLS] vector: the encoder runs ONCE over the training set (inference mode) and stage 2 trains
on those cached vectors, which is far faster than re-running the encoder every epoch. (The paper's
code re-runs the encoder with dropout active; the cached vectors carry no encoder dropout, only the
off-ramps' own dropout. See docs/limitations.md.)
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from .config import BYPASS, JOINT, TrainConfig  # defined without TensorFlow, for the CLI
from .model import DeeBertModel
from .tokenization import length_sorted_batches, padded_inputs

log = logging.getLogger(__name__)


def _optimizer(learning_rate, weight_decay: float):
    # Keras' AdamW, used directly on plain tf.Variables (no Keras model involved).
    return tf.keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay,
                                     epsilon=1e-6, clipnorm=1.0)


class _WarmupLinearDecay(tf.keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up then linear decay to 0, as in BERT fine-tuning."""

    def __init__(self, peak: float, total_steps: int, warmup_steps: int):
        self.peak, self.total, self.warmup = peak, max(total_steps, 1), max(warmup_steps, 1)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        up = self.peak * step / self.warmup
        down = self.peak * tf.maximum(0.0, (self.total - step) / max(self.total - self.warmup, 1))
        return tf.where(step < self.warmup, up, down)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total, "warmup_steps": self.warmup}


def _ce(labels, logits, class_weights=None):
    """Mean cross-entropy over the batch, each row's term times its gold label's weight.

    Args:
        labels: int32 (B,) label indices. logits: float32 (B, C).
        class_weights: float32 (C,) weight per label, or None (all 1).
    Returns:
        float32 scalar: ``mean_b w[y_b] * CE_b``. The mean, not the weighted mean (``sum w CE / sum w``):
        balanced weights average 1 over the training rows, so the loss keeps its scale and the learning
        rates keep their meaning, while a batch without a minority row is not scaled up.
    """
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    if class_weights is not None:
        ce = ce * tf.gather(class_weights, labels)
    return tf.reduce_mean(ce)


def _weights_tensor(class_weights) -> tf.Tensor | None:
    """float32 (C,) from a sequence of C weights, or None."""
    return None if class_weights is None else tf.constant(np.asarray(class_weights, dtype=np.float32))


@dataclasses.dataclass
class DevSelection:
    """What checkpoint selection evaluates: dev rows, the metric and when.

    Attributes:
        ids: token ids per dev row (truncated to max_seq_length).
        labels: int (N,) gold label indices.
        label_names: the task's labels in logits order, length C.
        metric: ``--select-on``: ``"macro-f1"``, ``"accuracy"`` or ``"recall:LABEL"``.
        evals_per_epoch: evaluations per epoch (>= 1); the last step is always evaluated.
        type_ids: token type ids per row (sentence pairs), or None.
    """
    ids: list[list[int]]
    labels: np.ndarray
    label_names: list[str]
    metric: str
    evals_per_epoch: int
    type_ids: list[list[int]] | None = None


def evaluation_steps(total_steps: int, batches_per_epoch: int, evals_per_epoch: int) -> list[int]:
    """Steps (1-based, after the optimiser update) at which checkpoint selection evaluates: every
    ``ceil(batches_per_epoch / evals_per_epoch)`` steps, and always the last step.

    Returns:
        Increasing step numbers, the last one ``total_steps``.
    """
    every = max(1, math.ceil(batches_per_epoch / evals_per_epoch))
    return sorted(set(range(every, total_steps + 1, every)) | {total_steps})


class _CheckpointSelector:
    """Evaluates the last off-ramp on dev at chosen steps and keeps a copy of the best weights."""

    def __init__(self, model: DeeBertModel, variables: list[tf.Variable], dev: DevSelection, steps: list[int]):
        from .evaluate import selection_metric
        self.model, self.variables, self.dev, self.steps = model, variables, dev, set(steps)
        self.metric = lambda gold, pred: selection_metric(dev.metric, gold, pred, dev.label_names)
        n = model.num_layers
        specs = [tf.TensorSpec([None, None], tf.int32)] * (2 if dev.type_ids is None else 3)

        @tf.function(input_signature=specs, reduce_retracing=True)
        def last_logits(input_ids, mask, token_type_ids=None):
            hidden = model.embed(input_ids, training=False, attention_mask=mask, token_type_ids=token_type_ids)
            for i in range(n):
                hidden = model.layer(i, hidden, mask, training=False)
            return model.off_ramp(n - 1, hidden[:, 0, :], training=False)

        self.last_logits = last_logits
        self.batches = length_sorted_batches(dev.ids, 64)
        self.history: list[dict] = []
        self.best: tuple[float, int, list[np.ndarray]] | None = None
        self.seconds = 0.0

    def after_step(self, step: int) -> None:
        if step not in self.steps:
            return
        t = time.time()
        pred = np.zeros(len(self.dev.ids), dtype=np.int64)
        for rows in self.batches:
            pred[rows] = self.last_logits(*padded_inputs(self.dev.ids, self.dev.type_ids, rows)).numpy().argmax(-1)
        value = self.metric(self.dev.labels, pred)
        self.history.append({"step": step, "value": round(value, 6)})
        # Ties keep the later, more trained weights: early evaluations of a model that still predicts one
        # label for everything tie, and the first step (learning rate 0 at the start of warm-up) would
        # otherwise keep the untrained model.
        if self.best is None or value >= self.best[0]:
            self.best = (value, step, [v.numpy() for v in self.variables])
        self.seconds += time.time() - t
        log.info("checkpoint selection: step %d, dev %s %.4f", step, self.dev.metric, value)

    def finish(self, total_steps: int) -> dict:
        """Restores the best weights; returns the record of the selection."""
        value, step, weights = self.best
        if step != total_steps:
            for var, w in zip(self.variables, weights):
                var.assign(w)
        return {"metric": self.dev.metric, "split": "dev", "off_ramp": self.model.num_layers,
                "num_examples": len(self.dev.ids), "evaluations": self.history, "chosen_step": step,
                "chosen_value": round(value, 6), "total_steps": total_steps,
                "restored": step != total_steps, "seconds": round(self.seconds, 1)}


def train_stage1(model: DeeBertModel, ids: list[list[int]], labels: np.ndarray, cfg: TrainConfig,
                 type_ids: list[list[int]] | None = None, class_weights=None,
                 dev: DevSelection | None = None) -> dict:
    """Stage 1: trains embeddings, all layers and the last off-ramp with L_n.

    Args:
        ids: token ids per example (already truncated to max_seq_length).
        labels: int (N,) label indices.
        type_ids: token type ids per example (sentence pairs), as long as ``ids``; ``None`` for single texts.
        class_weights: C floats, the weight of each label's rows in L_n (:func:`_ce`), or None (all 1).
        dev: checkpoint selection (``--select-on``): the last off-ramp is evaluated on these dev rows at
            :func:`evaluation_steps` and the best evaluation's weights are restored at the end; None keeps
            the final weights.
    Returns:
        stats: steps, seconds (selection included), final running loss, and ``checkpoint_selection``
        (metric, evaluated steps and values, chosen step) when ``dev`` is given.
    """
    rng = np.random.default_rng(cfg.seed)
    n = model.num_layers
    variables = model.encoder_variables() + model.off_ramp_variables([n - 1])
    batches_per_epoch = math.ceil(len(ids) / cfg.batch_size)
    total_steps = max(1, int(round(batches_per_epoch * cfg.stage1_epochs)))
    schedule = _WarmupLinearDecay(cfg.stage1_learning_rate, total_steps, int(cfg.warmup_ratio * total_steps))
    opt = _optimizer(schedule, cfg.weight_decay)
    weights = _weights_tensor(class_weights)
    selector = (_CheckpointSelector(model, variables, dev,
                                    evaluation_steps(total_steps, batches_per_epoch, dev.evals_per_epoch))
                if dev is not None else None)

    token_spec = tf.TensorSpec([None, None], tf.int32)
    specs = [token_spec, token_spec, tf.TensorSpec([None], tf.int32)] + ([token_spec] if type_ids is not None else [])

    @tf.function(input_signature=specs, reduce_retracing=True)
    def step(input_ids, mask, y, token_type_ids=None):
        with tf.GradientTape() as tape:
            hidden = model.embed(input_ids, training=True, attention_mask=mask, token_type_ids=token_type_ids)
            for i in range(n):
                hidden = model.layer(i, hidden, mask, training=True)
            loss = _ce(y, model.off_ramp(n - 1, hidden[:, 0, :], training=True), weights)
        grads = tape.gradient(loss, variables)
        opt.apply_gradients(zip(grads, variables))
        return loss

    # Length-bucketed batches (less padding), shuffled batch order each epoch.
    batches = length_sorted_batches(ids, cfg.batch_size)
    start, losses, done = time.time(), [], 0
    with tqdm(total=total_steps, desc="stage 1 (encoder + last off-ramp)", unit="step") as bar:
        while done < total_steps:
            for b in rng.permutation(len(batches)):
                if done >= total_steps:
                    break
                rows = batches[b]
                input_ids, mask, *types = padded_inputs(ids, type_ids, rows)
                loss = float(step(input_ids, mask, labels[rows].astype(np.int32), *types))
                losses.append(loss)
                done += 1
                if selector is not None:
                    selector.after_step(done)
                bar.update(1)
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
    stats = {"steps": total_steps, "seconds": round(time.time() - start, 1),
             "final_loss": float(np.mean(losses[-20:]))}
    if selector is not None:
        stats["checkpoint_selection"] = selector.finish(total_steps)
    return stats


def cache_cls_vectors(model: DeeBertModel, ids: list[list[int]], batch_size: int = 32, desc="cache [CLS]",
                      type_ids: list[list[int]] | None = None) -> np.ndarray:
    """Runs the frozen encoder once (inference mode) and returns every layer's [CLS] vector.

    Args:
        type_ids: token type ids per example (sentence pairs), or ``None`` (single texts).
    Returns:
        float32 (N, n, H), rows in the order of ``ids``.
    """
    encode = tf.function(lambda x, m, t=None: model.encode_cls(x, m, training=False, token_type_ids=t),
                         input_signature=[tf.TensorSpec([None, None], tf.int32)] * (2 if type_ids is None else 3),
                         reduce_retracing=True)
    out = np.zeros((len(ids), model.num_layers, model.config.hidden_size), dtype=np.float32)
    for rows in tqdm(length_sorted_batches(ids, batch_size), desc=desc, unit="batch"):
        out[rows] = encode(*padded_inputs(ids, type_ids, rows)).numpy()
    return out


def train_stage2(model: DeeBertModel, cls_vectors: np.ndarray, labels: np.ndarray, cfg: TrainConfig,
                 class_weights=None) -> dict:
    """Stage 2: trains off-ramps 1..n-1 with sum_i L_i (paper eq. 1) on cached [CLS] vectors.

    Only the weights of off-ramps 1..n-1 change; every stage-1 weight stays bit-identical.

    Args:
        cls_vectors: float32 (N, n, H) from :func:`cache_cls_vectors`.
        labels: int (N,).
        class_weights: C floats, the weight of each label's rows in every L_i (:func:`_ce`), or None.
    Returns:
        stats: steps, seconds, final loss (mean of the last epoch's batches).
    """
    rng = np.random.default_rng(cfg.seed + 1)
    n = model.num_layers
    variables = model.off_ramp_variables(range(n - 1))
    steps_per_epoch = math.ceil(len(labels) / cfg.stage2_batch_size)
    total = steps_per_epoch * cfg.stage2_epochs
    opt = _optimizer(_WarmupLinearDecay(cfg.stage2_learning_rate, total, int(cfg.warmup_ratio * total)),
                     cfg.weight_decay)
    weights = _weights_tensor(class_weights)

    @tf.function(input_signature=[tf.TensorSpec([None, n, None], tf.float32), tf.TensorSpec([None], tf.int32)])
    def step(cls, y):
        with tf.GradientTape() as tape:
            loss = tf.add_n([_ce(y, model.off_ramp(i, cls[:, i, :], training=True), weights) for i in range(n - 1)])
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    start, losses = time.time(), []
    for _ in tqdm(range(cfg.stage2_epochs), desc="stage 2 (off-ramps 1..n-1)", unit="epoch"):
        order = rng.permutation(len(labels))
        for s in range(steps_per_epoch):
            rows = order[s * cfg.stage2_batch_size:(s + 1) * cfg.stage2_batch_size]
            losses.append(float(step(cls_vectors[rows], labels[rows].astype(np.int32))))
    return {"steps": total, "seconds": round(time.time() - start, 1),
            "final_loss": float(np.mean(losses[-steps_per_epoch:]))}


# ------------------------------------------------------------------------------- joint / bypass
def scale_gradient(x: tf.Tensor, beta: float) -> tf.Tensor:
    """Identity in the forward pass (bit for bit); multiplies the gradient flowing back through it by ``beta``.

    ``beta`` = 0 cuts the gradient (like ``tf.stop_gradient``, but the gradient is an explicit zero), 1
    leaves it unchanged. Used on the [CLS] vector an early off-ramp reads, so that its loss pulls on the
    shared encoder with weight ``beta`` only (``docs/badge-bypass.md``).
    """
    if beta == 1.0:
        return x

    @tf.custom_gradient
    def _scaled(t):
        return tf.identity(t), lambda dy: dy * beta

    return _scaled(x)


def off_ramp_losses(model: DeeBertModel, input_ids, attention_mask, labels, beta: float = 1.0,
                    training: bool = True, token_type_ids=None, class_weights=None) -> list[tf.Tensor]:
    """Every off-ramp's mean cross-entropy L_1..L_n in one forward pass (paper eq. 1 has the sum of them).

    Off-ramps 1..n-1 read their layer's [CLS] vector through :func:`scale_gradient` with ``beta``; the
    last off-ramp (the original classifier) reads it unscaled.

    Args:
        input_ids, attention_mask: int32 (B, T).
        labels: int32 (B,) label indices.
        beta: gradient factor in [0, 1] of off-ramps 1..n-1 into the encoder.
        token_type_ids: int32 (B, T) for sentence pairs, ``None`` for single texts.
        class_weights: float32 (C,) weight per label in every L_i (:func:`_ce`), or None (all 1).
    Returns:
        n float32 scalars, index 0 = off-ramp 1.
    """
    n = model.num_layers
    hidden = model.embed(input_ids, training=training, attention_mask=attention_mask, token_type_ids=token_type_ids)
    losses = []
    for i in range(n):
        hidden = model.layer(i, hidden, attention_mask, training=training)
        cls = hidden[:, 0, :]
        if i < n - 1:
            cls = scale_gradient(cls, beta)
        losses.append(_ce(labels, model.off_ramp(i, cls, training=training), class_weights))
    return losses


def train_joint(model: DeeBertModel, ids: list[list[int]], labels: np.ndarray, cfg: TrainConfig,
                type_ids: list[list[int]] | None = None, class_weights=None,
                dev: DevSelection | None = None) -> dict:
    """One stage: embeddings, every layer and every off-ramp (with its bypass, if the model has them)
    trained together on sum_{i=1}^{n} L_i, equal weights.

    Regime ``joint``: the usual joint-training baseline (every off-ramp's loss reaches the encoder in
    full). Regime ``bypass``: the model has off-ramp bypasses and off-ramps 1..n-1 send only
    ``cfg.bypass_beta`` times their gradient into the encoder (``docs/badge-bypass.md``).

    The budget equals two-stage's stage 1: the same ``stage1_epochs`` of the same length-bucketed
    batches in the same seeded order. Two AdamW optimisers with the same warm-up/decay shape: the
    encoder and the last off-ramp at ``stage1_learning_rate`` (as in stage 1), off-ramps 1..n-1 and
    their bypasses at ``joint_off_ramp_learning_rate``.

    Args:
        ids: token ids per example (already truncated to max_seq_length).
        labels: int (N,) label indices.
        type_ids: token type ids per example (sentence pairs), as long as ``ids``; ``None`` for single texts.
        class_weights: C floats, the weight of each label's rows in every L_i (:func:`_ce`), or None (all 1).
        dev: checkpoint selection on the last off-ramp, as in :func:`train_stage1`; the kept weights are
            those of every off-ramp and bypass too (they were trained together).
    Returns:
        stats: steps, seconds, final running loss (the sum) and final running loss per off-ramp, and
        ``checkpoint_selection`` when ``dev`` is given.
    Raises:
        ValueError: ``cfg.regime`` is not joint/bypass, or the model's bypasses do not match the regime.
    """
    if cfg.regime not in (JOINT, BYPASS):
        raise ValueError(f"train_joint trains the joint and bypass regimes, not {cfg.regime!r}")
    if model.off_ramp_bypass_rank != cfg.off_ramp_bypass_rank:
        raise ValueError(f"regime {cfg.regime!r} needs off-ramp bypass rank {cfg.off_ramp_bypass_rank}, "
                         f"the model has {model.off_ramp_bypass_rank}")
    beta = cfg.bypass_beta if cfg.regime == BYPASS else 1.0
    rng = np.random.default_rng(cfg.seed)
    n = model.num_layers
    main_vars = model.encoder_variables() + model.off_ramp_variables([n - 1])
    ramp_vars = model.off_ramp_variables(range(n - 1))   # includes the bypasses
    batches_per_epoch = math.ceil(len(ids) / cfg.batch_size)
    total_steps = max(1, int(round(batches_per_epoch * cfg.stage1_epochs)))
    warmup = int(cfg.warmup_ratio * total_steps)
    main_opt = _optimizer(_WarmupLinearDecay(cfg.stage1_learning_rate, total_steps, warmup), cfg.weight_decay)
    ramp_opt = _optimizer(_WarmupLinearDecay(cfg.joint_off_ramp_learning_rate, total_steps, warmup), cfg.weight_decay)
    weights = _weights_tensor(class_weights)
    selector = (_CheckpointSelector(model, main_vars + ramp_vars, dev,
                                    evaluation_steps(total_steps, batches_per_epoch, dev.evals_per_epoch))
                if dev is not None else None)

    token_spec = tf.TensorSpec([None, None], tf.int32)
    specs = [token_spec, token_spec, tf.TensorSpec([None], tf.int32)] + ([token_spec] if type_ids is not None else [])

    @tf.function(input_signature=specs, reduce_retracing=True)
    def step(input_ids, mask, y, token_type_ids=None):
        with tf.GradientTape() as tape:
            losses = tf.stack(off_ramp_losses(model, input_ids, mask, y, beta, training=True,
                                              token_type_ids=token_type_ids, class_weights=weights))
            loss = tf.reduce_sum(losses)
        grads = tape.gradient(loss, main_vars + ramp_vars)
        main_opt.apply_gradients(zip(grads[:len(main_vars)], main_vars))
        ramp_opt.apply_gradients(zip(grads[len(main_vars):], ramp_vars))
        return losses

    batches = length_sorted_batches(ids, cfg.batch_size)
    start, losses, done = time.time(), [], 0
    with tqdm(total=total_steps, desc=f"{cfg.regime} (encoder + all off-ramps)", unit="step") as bar:
        while done < total_steps:
            for b in rng.permutation(len(batches)):
                if done >= total_steps:
                    break
                rows = batches[b]
                input_ids, mask, *types = padded_inputs(ids, type_ids, rows)
                losses.append(step(input_ids, mask, labels[rows].astype(np.int32), *types).numpy())
                done += 1
                if selector is not None:
                    selector.after_step(done)
                bar.update(1)
                bar.set_postfix(loss=f"{np.sum(np.mean(losses[-20:], axis=0)):.4f}")
    recent = np.mean(losses[-20:], axis=0)
    selection = {"checkpoint_selection": selector.finish(total_steps)} if selector is not None else {}
    return {"steps": total_steps, "seconds": round(time.time() - start, 1), "final_loss": float(recent.sum()),
            "final_loss_per_off_ramp": [round(float(x), 4) for x in recent], "gradient_scale_beta": beta,
            "learning_rates": {"encoder_and_last_off_ramp": cfg.stage1_learning_rate,
                               "off_ramps_1_to_n_minus_1": cfg.joint_off_ramp_learning_rate}, **selection}
