"""The short-text data set ``spamassassin-subjects``: each message's subject line alone, with the messages split
as ``spamassassin`` splits them. Subject-less messages are dropped, identical subjects are kept once (the first,
in split order train, dev, test), so no subject seen in training reappears in dev or test, and a subject that
occurs with both labels is dropped everywhere. The card says the model reads the subject line only."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from deebert_export.card import default_intended_use, default_limitations
from deebert_export.cli import default_name, main
from deebert_export.data import spamassassin
from deebert_export.data.examples import DataError, Example, read_jsonl
from deebert_export.data.prepare import prepare
from deebert_export.data.spamassassin import load_subjects, parse_email_parts
from deebert_export.data.splits import dedup_key, subject_splits

# Observed on the SpamAssassin corpus (package 0.2.3) with seed 13.
SUBJECT_SIZES = {"train": 3128, "dev": 588, "test": 587}


@pytest.fixture(autouse=True)
def build_in_tmp(tmp_path, monkeypatch):
    """Default work directories go to a temporary build/, never the checkout's."""
    monkeypatch.setenv("DEEBERT_BUILD_DIR", str(tmp_path / "build"))


def _ex(i, label):
    return Example(f"m{i}", f"full message {i}", label)


def test_subject_splits_keeps_the_first_copy_and_never_leaks_a_subject_into_a_later_split():
    splits = {"train": [_ex(1, "spam"), _ex(2, "ham"), _ex(3, "ham"), _ex(4, "spam")],
              "dev": [_ex(5, "ham"), _ex(6, "spam"), _ex(7, "ham")],
              "test": [_ex(8, "ham"), _ex(9, "spam"), _ex(10, "ham"), _ex(11, "ham")]}
    subjects = {"m1": "WIN  a prize", "m2": "Re: lunch", "m3": "Re: lunch",   # m3: a copy in the same split
                "m4": "cheap meds", "m5": "Re: lunch",                         # m5: seen in train
                "m6": "hello", "m7": "", "m8": "hello",                        # m7: no subject; m8/m6: both labels
                "m9": "WIN a prize",                                           # whitespace variant of m1
                "m10": "Re: minutes", "m11": "\u200b"}                         # m11: nothing visible
    out, stats = subject_splits(splits, subjects)
    assert {name: [(e.id, e.text, e.label) for e in out[name]] for name in out} == {
        "train": [("m1", "WIN  a prize", "spam"), ("m2", "Re: lunch", "ham"), ("m4", "cheap meds", "spam")],
        "dev": [], "test": [("m10", "Re: minutes", "ham")]}
    assert stats == {"no_subject": {"train": 0, "dev": 1, "test": 1},
                     "conflicting_labels": {"train": 0, "dev": 1, "test": 1},
                     "duplicates_within_split": {"train": 1, "dev": 0, "test": 0},
                     "duplicates_across_splits": {"train": 0, "dev": 1, "test": 1}}
    assert all(e.text_pair is None for name in out for e in out[name])
    with pytest.raises(DataError, match="no subject read for message 'm1'"):
        subject_splits(splits, {})


def test_load_subjects_reads_what_the_full_parser_reads(spam_corpus, spam_package_dir, raw_message):
    examples, _ = spam_corpus
    sample = examples[:: max(1, len(examples) // 60)]
    subjects = load_subjects(spam_package_dir, {ex.id for ex in sample})
    assert set(subjects) == {ex.id for ex in sample}
    for ex in sample:
        assert subjects[ex.id] == parse_email_parts(raw_message(ex.id))[0]
    with pytest.raises(DataError, match="missing; the corpus lists message 'spam-1/nope'"):
        load_subjects(spam_package_dir, {"spam-1/nope"})


def test_prepare_subjects_splits_by_message_like_the_corpus(tmp_path, cache_dir, spam_corpus, monkeypatch):
    # The session's parse of the corpus stands in for parsing it again (as in test_data_prepare).
    monkeypatch.setattr(spamassassin, "load_spamassassin_counted", lambda package_dir, progress=False, pairs=False: spam_corpus)
    full = prepare("spamassassin", tmp_path / "full", cache_dir, seed=13)
    config = prepare("spamassassin-subjects", tmp_path / "subjects", cache_dir, seed=13)

    assert config["dataset"] == "spamassassin-subjects" and config["text_pair"] is False
    assert config["corpus"] == full["corpus"] and config["labels"] == ["ham", "spam"]
    assert config["sizes"] == SUBJECT_SIZES
    assert config["overlap_with_train"] == {"dev": 0, "test": 0}
    dropped = config["subjects"]
    assert config["duplicates_dropped"] == full["duplicates_dropped"] + sum(
        sum(dropped[k].values()) for k in ("conflicting_labels", "duplicates_within_split", "duplicates_across_splits"))
    assert dropped["duplicates_across_splits"]["train"] == 0 and dropped["duplicates_across_splits"]["test"] > 0
    for name in ("train", "dev", "test"):
        rows = read_jsonl(tmp_path / "subjects" / f"{name}.jsonl")
        messages = {e.id: e for e in read_jsonl(tmp_path / "full" / f"{name}.jsonl")}
        # Every subject row is a message of the same split of the full-message data set, with its label.
        assert all(e.id in messages and messages[e.id].label == e.label for e in rows)
        assert all(messages[e.id].text.startswith(e.text) and "\n" not in e.text for e in rows)
        assert len({dedup_key(e.text) for e in rows}) == len(rows)
        assert dict(Counter(e.label for e in rows)) == config["counts"][name]
        assert len(messages) - len(rows) == sum(dropped[k][name] for k in dropped)
    seen = {dedup_key(e.text) for e in read_jsonl(tmp_path / "subjects" / "train.jsonl")}
    assert not seen & {dedup_key(e.text) for e in read_jsonl(tmp_path / "subjects" / "test.jsonl")}


def test_cli_names_the_subjects_data_set_and_refuses_tabular_options(capsys):
    assert default_name("spamassassin-subjects", None) == "spamassassin-subjects"
    assert default_name("spamassassin-subjects", None, 0.05) == "spamassassin-subjects-minority5"
    assert main(["prepare", "--dataset", "spamassassin-subjects", "--text-pair-column", "body"]) == 2
    assert "are for --dataset tabular, not spamassassin-subjects" in capsys.readouterr().err


def test_card_says_the_model_reads_the_subject_line_only():
    card = {"name": "deebert-spamassassin-subjects-minilm-l6", "labels": ["ham", "spam"], "max_seq_length": 48,
            "protected_label": "spam",
            "data": json.loads(json.dumps({"dataset": "spamassassin-subjects",
                                           "corpus": {"package": spamassassin.CORPUS_PACKAGE,
                                                      "version": spamassassin.CORPUS_VERSION,
                                                      "messages_parsed": 6046}}))}
    assert "from its subject line alone (a short text)" in default_intended_use(card)
    limits = " ".join(default_limitations(card))
    assert "Reads only the subject line" in limits and "unseen subjects" in limits
    assert "SpamAssassin public corpus (6,046 messages)" in limits
    pairs = dict(card, data=dict(card["data"], dataset="spamassassin-pairs"))
    assert "subject and plain-text body" in default_intended_use(pairs)
    assert "Reads only the subject and the human-readable body" in " ".join(default_limitations(pairs))
