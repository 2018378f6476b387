"""Builds the tiny real SavedModels that the Java classifier's unit tests load.

Random-init tiny BERT (3 layers, hidden 16; see tests/support/tiny_checkpoints.py), or with ``--roberta``
a tiny RoBERTa of the same size whose byte-level BPE tokenizer is trained on the committed SST-2 sample, the
sentences below and LAYOUT_LINES; two-stage fine-tuned for a few steps on the hand-written sentences
below (written for this project, not taken from any corpus), evaluated and exported through the same
pipeline as the default model.

Usage (from model-export/):
    PYTHONPATH=src .venv/bin/python scripts/make_tiny_model.py ../streams-app/src/test/resources/tiny-model
    PYTHONPATH=src .venv/bin/python scripts/make_tiny_model.py --roberta ../streams-app/src/test/resources/tiny-roberta-model
Writes the model directory plus ``texts.jsonl`` (id, text, label) whose reference outputs are in
``reference_outputs.jsonl``.
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
from pathlib import Path

from deebert_export import pipeline
from deebert_export.data import Example, write_jsonl
from deebert_export.train import TrainConfig

# The tiny checkpoint writers are test support, not part of the installed package: they live in
# tests/support/, which is not on sys.path when this script runs, so add tests/ explicitly.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.tiny_checkpoints import write_tiny_checkpoint, write_tiny_roberta_checkpoint  # noqa: E402

SST2_SAMPLE_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "sst2-sample"

SPAM = [
    "WIN a FREE cruise now!!! Click here to claim your prize before midnight",
    "Cheap meds online, no prescription needed, order today and save 80%",
    "Congratulations, you have been selected for a $1000 gift card",
    "Earn money from home fast, thousands of dollars every week guaranteed",
    "Lowest mortgage rates ever, refinance now, approval in minutes",
    "URGENT: your account will be closed, verify your password at this link",
    "Make your website number one on every search engine, limited offer",
    "Lose 30 pounds in 30 days with this one weird trick",
    "Hot singles in your area want to meet you tonight",
    "You are the lucky winner of our international lottery, send your bank details",
    "Buy now and get two for the price of one, unsubscribe below",
    "Investment opportunity: double your bitcoin in 24 hours",
]
HAM = [
    "Are we still meeting for lunch on Thursday at the usual place?",
    "The build is green again after Sam's patch to the parser module",
    "Attached are the minutes from yesterday's project review",
    "Can you review my pull request when you have a minute?",
    "The kernel mailing list thread about the scheduler regression continues",
    "I pushed the fix for the off-by-one error in the date handling code",
    "Reminder: the quarterly planning meeting moved to room 4B",
    "Thanks for the book recommendation, I finished it over the weekend",
    "Does anyone know why the nightly backup job failed on Sunday?",
    "Here is the draft of the conference paper for your comments",
    "The new release of the package fixes the memory leak we reported",
    "Let's postpone the hike, the forecast says heavy rain",
]
# Deliberately awkward inputs for tokenizer parity: unicode, long text (truncation), odd spacing.
EXTRA = [
    ("ham", "Grüße aus München – naïve café résumé ☕ 東京"),
    ("spam", " ".join(["FREE money"] * 80)),
    ("ham", "  leading and trailing spaces\tand\ttabs\nand newlines  "),
]
# RoBERTa only: fixed-width layout lines with 64-space runs. Repeated in the BPE training text they
# give the tokenizer whitespace-run tokens of up to 63 spaces (byte-level vocabularies have multi-space
# tokens too), so one token can span more than the ~8 chars per token that the Java tokenizer's prefix
# shortcut assumes: BatchTokenizerTest cuts texts inside such runs. One layout text is an example too.
LAYOUT_LINES = ["Item" + " " * 64 + "Qty", "Widget" + " " * 64 + "2", "Name:" + " " * 64 + "Sam Jones"]
LAYOUT_REPEATS = 10
ROBERTA_EXTRA = [("ham", "\n".join(LAYOUT_LINES)), ("spam", "FREE    FREE    FREE    " * 30)]


def sst2_sample_texts() -> list[str]:
    texts = []
    for name in ("train.tsv", "dev.tsv"):
        with open(SST2_SAMPLE_DIR / name, encoding="utf-8", newline="") as f:
            texts += [row["sentence"] for row in csv.DictReader(f, delimiter="\t")]
    return texts


def main(out: Path, roberta: bool = False) -> None:
    examples = [Example(f"tiny/spam-{i}", t, "spam") for i, t in enumerate(SPAM)]
    examples += [Example(f"tiny/ham-{i}", t, "ham") for i, t in enumerate(HAM)]
    examples += [Example(f"tiny/extra-{i}", t, lab) for i, (lab, t) in enumerate(EXTRA)]
    if roberta:
        examples += [Example(f"tiny/table-{i}", t, lab) for i, (lab, t) in enumerate(ROBERTA_EXTRA)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if roberta:
            bpe_texts = sst2_sample_texts() + [e.text for e in examples] + LAYOUT_LINES * LAYOUT_REPEATS
            ckpt = write_tiny_roberta_checkpoint(tmp / "checkpoint", bpe_texts)
        else:
            ckpt = write_tiny_checkpoint(tmp / "checkpoint")
        data = tmp / "work" / "data"
        data.mkdir(parents=True)
        for split in ("train", "dev", "test"):
            write_jsonl(data / f"{split}.jsonl", examples)
        (data / "labels.json").write_text(json.dumps(["ham", "spam"]))
        (data / "prepare_config.json").write_text(json.dumps({"dataset": "hand-written sentences (make_tiny_model.py)"}))
        # class_weight and select_on pinned to how the committed tiny models were trained (final weights,
        # unweighted loss), so the script still reproduces them.
        cfg = TrainConfig(max_seq_length=48, batch_size=9, stage1_epochs=40, stage1_learning_rate=3e-3,
                          stage2_epochs=20, stage2_learning_rate=1e-2, class_weight="none", select_on="last")
        pipeline.train(data, tmp / "work", cfg, ckpt)
        pipeline.evaluate(data, tmp / "work", "float16")
        if out.exists():
            shutil.rmtree(out)
        name = "deebert-tiny-roberta-test" if roberta else "deebert-tiny-test"
        pipeline.export(data, tmp / "work", out, name, "0.0.1", "unit tests only", "float16")
        write_jsonl(out / "texts.jsonl", examples)
    shutil.rmtree(out / "eval")  # plots are not needed by the Java tests


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="model directory to write (replaced)")
    parser.add_argument("--roberta", action="store_true", help="a tiny RoBERTa with a byte-level BPE tokenizer")
    args = parser.parse_args()
    main(args.out, args.roberta)
