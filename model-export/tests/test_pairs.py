"""Sentence pairs end to end: two text columns read from TSV/CSV (by header name or 0-based position),
one-line data errors for a missing or empty pair column, ``text_pair`` in the JSONL files, tokenisation as
BERT does it (``[CLS] a [SEP] b [SEP]``, token types 0 then 1, longest-first truncation), token type
embeddings in the model, and a tiny checkpoint trained, evaluated and exported through the CLI on a real
pair task built from the committed SST-2 sample (do two reviews agree in sentiment?). The export's
``embed`` and ``serving_default`` take ``token_type_ids``, its card says ``input.text_pair``, and it runs
layer by layer in the session loader (the C API's, so DJL's) exactly like the Python model."""
from __future__ import annotations

import csv
import hashlib
import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import MODEL_EXPORT_DIR
from deebert_export import pipeline
from deebert_export.cli import main
from deebert_export.data import DataError, Example, pair_task, read_jsonl, write_jsonl
from deebert_export.data.spamassassin import parse_email, parse_email_parts
from deebert_export.data.splits import deduplicate
from deebert_export.data.tabular import load_tabular
from deebert_export.export import describe_signatures, run_session_style
from deebert_export.golden import PAIR_TOKENS_FORMAT_VERSION, pair_tokens_golden
from deebert_export.model import BertConfig, DeeBertModel
from deebert_export.tokenization import encode_pairs, expects_text_pair, load_tokenizer, padded_inputs

from support.tiny_checkpoints import TINY_CONFIG, write_tiny_checkpoint

TOKENIZER = MODEL_EXPORT_DIR / "models" / "deebert-spamassassin-minilm-l6" / "tokenizer.json"
CLS, SEP = 101, 102


@pytest.fixture(autouse=True)
def build_in_tmp(tmp_path, monkeypatch):
    """Default work directories go to a temporary build/, never the checkout's."""
    monkeypatch.setenv("DEEBERT_BUILD_DIR", str(tmp_path / "build"))


def _write_csv(path, rows, header=("text", "text_pair", "label")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if header:
            w.writerow(header)
        w.writerows(rows)
    return path


def _one_line_error(capsys, *args) -> str:
    rc = main(["prepare", *map(str, args)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("error: "), err   # one line, no traceback
    return err[0]


# --- data: two text columns ------------------------------------------------------------------------

def test_pair_column_by_header_name_and_by_position(tmp_path):
    rows = [("Lunch?", "Are we still on for noon,\n  at the usual place?", "ham"), ("WIN NOW", "click here", "spam")]
    named = load_tabular(_write_csv(tmp_path / "a.csv", rows), text_pair_column="text_pair")
    assert [(e.text, e.text_pair, e.label) for e in named] == [
        ("Lunch?", "Are we still on for noon,\n  at the usual place?", "ham"), ("WIN NOW", "click here", "spam")]
    (tmp_path / "b.tsv").write_text("spam\tWIN NOW\tclick here\nham\tLunch?\tat noon\n")
    positional = load_tabular(tmp_path / "b.tsv", text_column=1, label_column=0, header=False, text_pair_column="2")
    assert [(e.text, e.text_pair, e.label) for e in positional] == [("WIN NOW", "click here", "spam"),
                                                                   ("Lunch?", "at noon", "ham")]
    # Without the option the same file is single-text data: the pair column is ignored.
    assert all(e.text_pair is None for e in load_tabular(tmp_path / "a.csv"))


def test_missing_pair_column_is_one_line_naming_file_header_and_option(tmp_path, capsys):
    path = _write_csv(tmp_path / "pairs.csv", [("a", "b", "ham"), ("c", "d", "spam")], header=("text", "body", "label"))
    line = _one_line_error(capsys, "--train-file", path, "--text-pair-column", "text_pair")
    assert f"{path}:1: missing column 'text_pair'" in line and "--text-pair-column" in line
    assert "['text', 'body', 'label']" in line


def test_empty_pair_is_one_line_naming_file_row_and_column(tmp_path, capsys):
    path = _write_csv(tmp_path / "pairs.csv", [("a", "b", "ham"), ("c", "  ", "spam")])
    line = _one_line_error(capsys, "--train-file", path, "--text-pair-column", "text_pair")
    assert f"{path}:3: empty text pair in column 'text_pair'" in line and "fix or remove the row" in line


def test_pair_column_out_of_range_or_shared_with_another_column(tmp_path, capsys):
    path = tmp_path / "nohead.tsv"
    path.write_text("1\tfirst\tsecond\n0\tthird\tfourth\n")
    line = _one_line_error(capsys, "--train-file", path, "--no-header", "--label-column", 0, "--text-column", 1,
                           "--text-pair-column", 3)
    assert f"{path}:1: has 3 fields, so column 3 does not exist" in line
    line = _one_line_error(capsys, "--train-file", path, "--no-header", "--label-column", 0, "--text-column", 1,
                           "--text-pair-column", 1)
    assert "--text-column and --text-pair-column are both column 1" in line
    line = _one_line_error(capsys, "--train-file", path, "--no-header", "--label-column", 0, "--text-column", 1,
                           "--text-pair-column", "body")
    assert "--no-header needs --text-pair-column as a 0-based column number, got 'body'" in line


def test_pair_column_is_for_tabular_data_only(capsys):
    assert main(["prepare", "--dataset", "spamassassin-pairs", "--text-pair-column", "body"]) == 2
    assert "are for --dataset tabular, not spamassassin-pairs" in capsys.readouterr().err


def test_jsonl_carries_text_pair_only_where_there_is_one(tmp_path):
    single, pair = tmp_path / "single.jsonl", tmp_path / "pair.jsonl"
    write_jsonl(single, [Example("a", "text", "ham")])
    write_jsonl(pair, [Example("b", "subject", "spam", "body")])
    assert json.loads(single.read_text()) == {"id": "a", "text": "text", "label": "ham"}   # as before pairs
    assert json.loads(pair.read_text()) == {"id": "b", "text": "subject", "label": "spam", "text_pair": "body"}
    assert read_jsonl(pair) == [Example("b", "subject", "spam", "body")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "c", "text": "t", "label": "ham", "text_pair": 3}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:1: field 'text_pair' is not a string"):
        read_jsonl(bad)


def test_a_data_set_is_all_pairs_or_all_single_texts():
    assert pair_task([Example("a", "x", "0", "y"), Example("b", "x", "1", "z")]) is True
    assert pair_task([Example("a", "x", "0"), Example("b", "y", "1")]) is False
    with pytest.raises(DataError, match=r"example 'b' has no text_pair while 2 others in train.jsonl have one"):
        pair_task([Example("a", "x", "0", "y"), Example("b", "x", "1"), Example("c", "w", "1", "v")], "train.jsonl")


def test_pairs_are_duplicates_only_when_both_texts_are():
    kept, dropped = deduplicate([Example("a", "Re: hi", "ham", "body one"), Example("b", "Re: hi", "ham", "body two"),
                                 Example("c", "Re:  hi", "ham", "body  one")])
    assert [e.id for e in kept] == ["a", "b"] and dropped == 1


def test_subject_and_body_are_the_parts_of_the_single_text(spam_corpus, raw_message):
    examples, _ = spam_corpus
    for ex in examples[:: max(1, len(examples) // 40)]:
        subject, body = parse_email_parts(raw_message(ex.id))
        assert "\n\n".join(p for p in (subject, body) if p) == parse_email(raw_message(ex.id)) == ex.text
        assert "\n" not in subject


# --- tokenisation -------------------------------------------------------------------------------------

def test_pairs_are_encoded_as_bert_does_with_token_types():
    tok = load_tokenizer(TOKENIZER, 128)
    (ids,), (types,) = encode_pairs(tok, ["Meeting moved"], ["Now on Thursday."])
    a, b = tok.encode("Meeting moved").ids, tok.encode("Now on Thursday.").ids   # each [CLS] ... [SEP]
    assert ids == [CLS] + a[1:-1] + [SEP] + b[1:-1] + [SEP]
    assert types == [0] * (len(a)) + [1] * (len(b) - 1)


def test_longest_first_truncation_cuts_the_longer_text_first():
    tok = load_tokenizer(TOKENIZER, 16)
    (ids, ids2), (types, types2) = encode_pairs(tok, ["short subject", "word " * 50], ["word " * 50, "short body"])
    assert len(ids) == len(types) == 16 and len(ids2) == 16
    assert types.count(0) == 4    # [CLS] short subject [SEP]: the first text is kept whole
    assert types2.count(1) == 3   # short body [SEP]
    assert ids[0] == CLS and ids[-1] == SEP and ids[types.count(0) - 1] == SEP


def test_pair_token_golden_file_is_what_python_encodes_now():
    # The committed file that Java's PairTokenizationGoldenTest checks; regenerate with
    # `python -m deebert_export golden` after a deliberate change.
    committed = json.loads((MODEL_EXPORT_DIR / "tests" / "golden" / "pair_tokens.json").read_text(encoding="utf-8"))
    assert committed["format_version"] == PAIR_TOKENS_FORMAT_VERSION
    assert committed == pair_tokens_golden(TOKENIZER)
    assert len(committed["cases"]) >= 10
    budgets = {(c["token_type_ids"].count(0), c["token_type_ids"].count(1)) for c in committed["cases"]
               if c["name"].startswith("both long") and c["max_seq_length"] == 16}
    assert budgets == {(8, 8), (9, 7)}   # the odd non-special token goes to the longer text


# --- model ----------------------------------------------------------------------------------------------

def test_token_type_zero_everywhere_is_the_single_text_graph_and_type_one_differs():
    model = DeeBertModel(BertConfig.from_dict(dict(TINY_CONFIG, vocab_size=50)), 2, seed=3)
    ids = tf.constant([[1, 5, 7, 2, 9, 2]], tf.int32)
    single = model.embed(ids).numpy()
    np.testing.assert_array_equal(model.embed(ids, token_type_ids=tf.zeros_like(ids)).numpy(), single)
    pair = model.embed(ids, token_type_ids=tf.constant([[0, 0, 0, 0, 1, 1]], tf.int32)).numpy()
    np.testing.assert_array_equal(pair[:, :4], single[:, :4])
    assert np.abs(pair[:, 4:] - single[:, 4:]).min() > 0


# --- through the CLI: train, evaluate, export a pair model -------------------------------------------

@pytest.fixture(scope="module")
def pair_run(tmp_path_factory, sst2_sample_dir):
    """A real pair task from the committed SST-2 sample: text = one review, text_pair = another, label
    ``same``/``different`` sentiment. Trained from a tiny random checkpoint through ``run``."""
    tmp = tmp_path_factory.mktemp("pairs")
    rows = list(csv.reader(open(sst2_sample_dir / "train.tsv", encoding="utf-8"), delimiter="\t",
                           quoting=csv.QUOTE_NONE))[1:]
    pairs = [(a[0].strip(), b[0].strip(), "same" if a[1] == b[1] else "different")
             for a, b in zip(rows[0::2], rows[1::2])]
    train = _write_csv(tmp / "sst2-pairs.csv", [(a, b, lab) for a, b, lab in pairs],
                       header=("sentence", "second_sentence", "label"))
    ckpt = write_tiny_checkpoint(tmp / "ckpt")
    work = tmp / "work"
    rc = main(["run", "--train-file", str(train), "--text-pair-column", "second_sentence", "--work-dir", str(work),
               "--checkpoint", str(ckpt), "--max-seq-length", "32", "--batch-size", "16", "--stage2-epochs", "2",
               "--allow-weak-labels"])   # a tiny random-init model: see test_pipeline.first_run
    assert rc == 0
    return work, work / "model"


def test_pair_export_card_and_signatures(pair_run):
    work, out = pair_run
    card = json.loads((out / "model_card.json").read_text())
    assert card["input"] == {"text_pair": True} and expects_text_pair(card)
    assert card["data"]["text_pair"] is True and card["data"]["text_pair_column"] == "second_sentence"
    sigs = describe_signatures(out / "saved_model")
    tokens = {"dtype": "int32", "shape": [-1, -1]}
    for name in ("embed", "serving_default"):
        assert sigs[name]["inputs"] == {"attention_mask": tokens, "input_ids": tokens, "token_type_ids": tokens}
    assert set(sigs["layer_1"]["inputs"]) == {"attention_mask", "hidden"}   # layers do not change
    assert card["signatures"] == sigs
    examples = read_jsonl(work / "data" / "train.jsonl")
    assert all(e.text_pair for e in examples) and {e.label for e in examples} == {"same", "different"}


def test_pair_export_runs_layer_by_layer_like_the_python_model(pair_run):
    work, out = pair_run
    model, record = pipeline.load_trained(work, tf.float16)   # the weights as exported
    tok = load_tokenizer(out / "tokenizer.json", record["train_config"]["max_seq_length"])
    test = read_jsonl(work / "data" / "test.jsonl")[:10]
    ids, types = encode_pairs(tok, [e.text for e in test], [e.text_pair for e in test])
    x, m, t = padded_inputs(ids, types, range(len(ids)))
    python = model.all_logits(x, m, token_type_ids=t).numpy()
    np.testing.assert_allclose(run_session_style(out / "saved_model", x, m, model.num_layers, t), python, atol=1e-5)
    # The token types reach the graph: embed's output changes exactly at the text pair's positions.
    embed = tf.saved_model.load(str(out / "saved_model")).signatures["embed"]
    hidden = embed(input_ids=tf.constant(x), attention_mask=tf.constant(m), token_type_ids=tf.constant(t))["hidden"]
    zeros = embed(input_ids=tf.constant(x), attention_mask=tf.constant(m),
                  token_type_ids=tf.zeros_like(tf.constant(t)))["hidden"]
    diff = np.abs(hidden.numpy() - zeros.numpy()).max(axis=-1)   # (B, T)
    assert (diff[t == 0] == 0).all() and (diff[t == 1] > 1e-3).all()


def test_pair_reference_outputs_carry_token_types_and_both_hashes(pair_run):
    work, out = pair_run
    test = read_jsonl(work / "data" / "test.jsonl")
    lines = [json.loads(x) for x in (out / "reference_outputs.jsonl").read_text().splitlines()]
    assert [x["id"] for x in lines] == [e.id for e in test]
    for x, e in zip(lines, test):
        assert x["text_pair_sha256"] == hashlib.sha256(e.text_pair.encode("utf-8")).hexdigest()
        assert len(x["token_type_ids"]) == len(x["token_ids"]) == x["num_tokens"] <= 32
        first_sep = x["token_ids"].index(SEP)
        assert x["token_type_ids"] == [0] * (first_sep + 1) + [1] * (x["num_tokens"] - first_sep - 1)


def test_pair_model_reexports_and_calibrates(pair_run, tmp_path):
    import shutil
    work, out = pair_run
    copy = tmp_path / "model"
    shutil.copytree(out, copy)
    card = pipeline.reexport(copy)
    assert card["parity"]["session_loader_max_abs_logit_diff"] < 1e-4 and card["input"] == {"text_pair": True}
    assert main(["calibrate", "--model-dir", str(copy), "--max-accuracy-loss", "1", "--policy", "entropy",
                 "--work-dir", str(work)]) == 0
    assert "entropy" in json.loads((copy / "model_card.json").read_text())["calibrated"]


def test_a_single_text_dev_file_is_refused_for_a_pair_model(pair_run, tmp_path, capsys):
    _, out = pair_run
    dev = tmp_path / "dev.jsonl"
    write_jsonl(dev, [Example("a", "fine film", "same")])
    assert main(["calibrate", "--model-dir", str(out), "--max-accuracy-loss", "1", "--dev-file", str(dev)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "input.text_pair true but the dev examples have no text_pair" in err[0]
