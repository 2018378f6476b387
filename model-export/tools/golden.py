"""Writes the repository's cross-language golden files: ``tests/golden/exit_policies.json`` and
``tests/golden/pair_tokens.json`` under ``model-export/``.

    python tools/golden.py [--out FILE] [--pair-tokens-out FILE] [--seed N]
    python -m deebert_export golden [same options]      # from model-export/: runs this file

The documents themselves are computed by the installed package (:mod:`deebert_export.golden`, from the
exit maths and the tokenizer); this tool holds the repository side: where the files live, which
tokenizer the pair document is encoded with (the committed default model's), and the bytes written
(indented JSON, one trailing newline; the pair file UTF-8 without escapes). The defaults are resolved
from this file's location, so the tool writes the same files from any directory. ``tests/test_exits.py``,
``tests/test_pairs.py`` and streams-app's ``ExitPoliciesGoldenTest`` and ``PairTokenizationGoldenTest``
check against the committed files; after changing the exit maths or the tokenisation, regenerate them and
commit them with the change.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from deebert_export.golden import DEFAULT_SEED, PAIR_TOKENIZER, golden, pair_tokens_golden

#: ``model-export/``: this file is ``model-export/tools/golden.py``.
MODEL_EXPORT_DIR = Path(__file__).resolve().parents[1]
#: The exit-policy golden file.
EXIT_POLICIES_FILE = MODEL_EXPORT_DIR / "tests" / "golden" / "exit_policies.json"
#: The sentence-pair token golden file.
PAIR_TOKENS_FILE = MODEL_EXPORT_DIR / "tests" / "golden" / "pair_tokens.json"
#: The tokenizer the pair document is encoded with: the committed default model's.
PAIR_TOKENIZER_FILE = MODEL_EXPORT_DIR / PAIR_TOKENIZER


def write_golden(out: Path, seed: int = DEFAULT_SEED) -> dict:
    """Writes :func:`deebert_export.golden.golden` of ``seed`` to ``out`` (indented JSON, ASCII, one trailing
    newline; parent directories created) and returns the document."""
    doc = golden(seed)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return doc


def write_pair_tokens_golden(out: Path, tokenizer_path: Path = PAIR_TOKENIZER_FILE) -> dict:
    """Writes :func:`deebert_export.golden.pair_tokens_golden` of ``tokenizer_path`` to ``out`` (indented
    JSON, UTF-8 without ``\\u`` escapes, one trailing newline; parent directories created) and returns the
    document."""
    doc = pair_tokens_golden(tokenizer_path)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return doc


def run(out: Path | None = None, pair_tokens_out: Path | None = None, seed: int | None = None) -> int:
    """Writes both files (None: :data:`EXIT_POLICIES_FILE`, :data:`PAIR_TOKENS_FILE`, :data:`DEFAULT_SEED`)
    and prints one line per file; returns 0."""
    out = EXIT_POLICIES_FILE if out is None else Path(out)
    pair_tokens_out = PAIR_TOKENS_FILE if pair_tokens_out is None else Path(pair_tokens_out)
    doc = write_golden(out, DEFAULT_SEED if seed is None else seed)
    print("wrote", out, "with", sum(len(c["settings"]) for c in doc["cases"]), "settings over",
          len(doc["cases"]), "cases")
    pairs = write_pair_tokens_golden(pair_tokens_out)
    print("wrote", pair_tokens_out, "with", len(pairs["cases"]), "sentence pairs")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python tools/golden.py [--out FILE] [--pair-tokens-out FILE] [--seed N]``; see the module docstring."""
    p = argparse.ArgumentParser(prog="python tools/golden.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, help=f"exit-policy JSON file to write (default: {EXIT_POLICIES_FILE})")
    p.add_argument("--pair-tokens-out", type=Path,
                   help=f"sentence-pair token ids JSON file to write (default: {PAIR_TOKENS_FILE})")
    p.add_argument("--seed", type=int, help=f"numpy seed of the random cases (default: {DEFAULT_SEED})")
    a = p.parse_args(argv)
    return run(a.out, a.pair_tokens_out, a.seed)


if __name__ == "__main__":
    raise SystemExit(main())
