"""Builds the tiny real sentence-pair SavedModel that the Java tests load (``tiny-pair-model``).

Like ``make_tiny_model.py`` (random-init tiny BERT, 3 layers, hidden 16; see
tests/support/tiny_checkpoints.py), but a sentence-pair task: e-mail subject as ``text``, body as ``text_pair``. Two-stage fine-tuned for a few steps
on the hand-written pairs below (written for this project, not taken from any corpus) plus a few hundred
real SpamAssassin pairs, evaluated and exported through the same pipeline as every model, so the export
takes ``token_type_ids`` and its card says ``input.text_pair``.

The test split, and so ``reference_outputs.jsonl``, holds the hand-written pairs (their texts are
committed in ``texts.jsonl`` for the classifier's unit tests) and then real held-out pairs of the
``spamassassin-pairs`` test split (only their ids, hashes, token ids and logits are committed; the
end-to-end tests read their texts from the prepared split).

Usage (from model-export/, after ``python -m deebert_export prepare --dataset spamassassin-pairs``):
    PYTHONPATH=src .venv/bin/python scripts/make_tiny_pair_model.py ../streams-app/src/test/resources/tiny-pair-model
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from deebert_export import pipeline
from deebert_export.data import Example, read_jsonl, write_jsonl
from deebert_export.train import TrainConfig

# The tiny checkpoint writers are test support, not part of the installed package: they live in
# tests/support/, which is not on sys.path when this script runs, so add tests/ explicitly.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.tiny_checkpoints import write_tiny_checkpoint  # noqa: E402

PAIRS_DATA = Path("build/spamassassin-pairs/data")
REAL_TRAIN, REAL_DEV, REAL_TEST = 240, 48, 48

SPAM = [
    ("WIN a FREE cruise now!!!", "Click here to claim your prize before midnight, only today"),
    ("Cheap meds online", "No prescription needed, order today and save 80% on every order"),
    ("Congratulations!", "You have been selected for a $1000 gift card, reply with your address"),
    ("Earn money from home", "Thousands of dollars every week guaranteed, no experience needed"),
    ("Lowest mortgage rates ever", "Refinance now, approval in minutes, bad credit is no problem"),
    ("URGENT: account suspended", "Your account will be closed, verify your password at this link"),
    ("Be number one on Google", "Make your website top of every search engine, limited offer"),
    ("Lose 30 pounds in 30 days", "Doctors hate this one weird trick, order the pills today"),
    ("You are our lucky winner", "Send your bank details to receive the international lottery prize"),
    ("Buy one get one free", "Two for the price of one on all products, unsubscribe below"),
    ("Double your bitcoin", "Investment opportunity: send coins now and get twice back in 24 hours"),
    ("Re: your order", "Act now! Limited stock of cheap watches and software, click to buy"),
]
HAM = [
    ("Lunch on Thursday?", "Are we still meeting at the usual place at noon?"),
    ("Build is green again", "Sam's patch to the parser module fixed the failing tests"),
    ("Minutes of the review", "Attached are the minutes from yesterday's project review meeting"),
    ("Re: pull request 42", "Can you review my change to the date handling when you have a minute?"),
    ("Scheduler regression", "The kernel mailing list thread about the scheduler regression continues"),
    ("Off-by-one fix", "I pushed the fix for the off-by-one error in the date handling code"),
    ("Room change", "Reminder: the quarterly planning meeting moved to room 4B"),
    ("Thanks for the book", "I finished it over the weekend, the last chapter was great"),
    ("Backup job failed", "Does anyone know why the nightly backup job failed on Sunday?"),
    ("Draft paper", "Here is the draft of the conference paper for your comments"),
    ("New release", "The new release of the package fixes the memory leak we reported"),
    ("Hike postponed", "Let's postpone the hike, the forecast says heavy rain"),
]
# Deliberately awkward pairs for tokenizer parity: unicode, truncation of either text, odd spacing.
EXTRA = [
    ("ham", "Grüße aus München", "naïve café résumé ☕ 東京 — bis bald"),
    ("spam", "FREE money", " ".join(["FREE money now"] * 40)),
    ("spam", " ".join(["CLICK HERE"] * 40), "limited offer"),
    ("ham", "  leading and trailing spaces ", "tabs\tand\tnewlines\n\nin the body  "),
]


def hand_written() -> list[Example]:
    out = [Example(f"tiny/spam-{i}", s, "spam", b) for i, (s, b) in enumerate(SPAM)]
    out += [Example(f"tiny/ham-{i}", s, "ham", b) for i, (s, b) in enumerate(HAM)]
    out += [Example(f"tiny/extra-{i}", s, lab, b) for i, (lab, s, b) in enumerate(EXTRA)]
    return out


def spread(examples: list[Example], count: int) -> list[Example]:
    """``count`` examples spread evenly over the split (deterministic)."""
    return [examples[i * len(examples) // count] for i in range(count)] if count < len(examples) else examples


def main(out: Path) -> None:
    if not (PAIRS_DATA / "test.jsonl").is_file():
        sys.exit(f"{PAIRS_DATA}/test.jsonl is missing: run python -m deebert_export prepare --dataset spamassassin-pairs")
    mine = hand_written()
    real = {s: read_jsonl(PAIRS_DATA / f"{s}.jsonl") for s in ("train", "dev", "test")}
    splits = {"train": mine + spread(real["train"], REAL_TRAIN), "dev": mine + spread(real["dev"], REAL_DEV),
              "test": mine + spread(real["test"], REAL_TEST)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ckpt = write_tiny_checkpoint(tmp / "checkpoint")
        data = tmp / "work" / "data"
        data.mkdir(parents=True)
        for split, examples in splits.items():
            write_jsonl(data / f"{split}.jsonl", examples)
        (data / "labels.json").write_text(json.dumps(["ham", "spam"]))
        (data / "prepare_config.json").write_text(json.dumps({
            "dataset": "hand-written subject/body pairs (make_tiny_pair_model.py) + spamassassin-pairs samples",
            "text_pair": True, "sizes": {s: len(e) for s, e in splits.items()}}))
        # class_weight and select_on pinned to how the committed tiny pair model was trained (see make_tiny_model.py)
        cfg = TrainConfig(max_seq_length=48, batch_size=16, stage1_epochs=8, stage1_learning_rate=3e-3,
                          stage2_epochs=20, stage2_learning_rate=1e-2, class_weight="none", select_on="last")
        pipeline.train(data, tmp / "work", cfg, ckpt)
        pipeline.evaluate(data, tmp / "work", "float16")
        if out.exists():
            shutil.rmtree(out)
        pipeline.export(data, tmp / "work", out, "deebert-tiny-pair-test", "0.0.1", "unit tests only (subject, body pairs)",
                        "float16")
        write_jsonl(out / "texts.jsonl", mine)
    shutil.rmtree(out / "eval")  # plots are not needed by the Java tests


if __name__ == "__main__":
    main(Path(sys.argv[1]))
