"""The two cross-language golden documents, computed from the package's own maths: the exit policies
(:func:`golden`) and sentence-pair tokenisation (:func:`pair_tokens_golden`).

This module computes the documents only; it reads no file but the tokenizer it is given and writes
none. Where the files live and how they are written is the repository's writer, ``tools/golden.py``
(``model-export/tests/golden/exit_policies.json`` and ``pair_tokens.json``), which
``python -m deebert_export golden`` runs from the current directory (``model-export/``).

The exit-policy document holds a few arrays of off-ramp logits (edge cases: exact ties, a uniform
distribution, very confident rows, a label that flips) and, for every policy and several settings
(S = 0, S above the score's maximum, thresholds between observed scores, per-layer lists, per-label
lists, every patience 1..n), the exit layer of each input and the expected saving (DeeBERT eq. 2),
all computed by :mod:`deebert_export.exits`. ``tests/test_exits.py`` checks Python against it and
``streams-app``'s ``ExitPoliciesGoldenTest`` checks Java against it, so the two languages cannot drift
apart silently.

The document is deterministic for a given seed (numpy's PCG64). Every threshold that is not 0 lies at
least :data:`MARGIN` away from every score it is compared with, so the float32 probabilities the Java
runtime works with cannot flip a decision; :func:`golden` refuses to build a document that breaks this.
JSON ``Infinity`` stands for the +inf divergence score at layer 1.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import exits

FORMAT_VERSION = 2  # 2: every setting row has label_thresholds
DEFAULT_SEED = 20200705
#: The documents' ``generator`` fields. Part of the frozen golden format: the committed files carry these
#: exact strings, so they stay as they are (byte-identical regeneration) whichever script writes the files.
GENERATOR = "python -m deebert_export golden (deebert_export/golden.py)"
PAIR_TOKENS_GENERATOR = "python -m deebert_export golden (deebert_export/golden.py, pair_tokens_golden)"
# Smallest distance (nats) between a non-zero threshold and a score: float32 rounding in Java is ~1e-7.
MARGIN = 1e-4


def _cases(rng: np.random.Generator) -> list[tuple[str, str, np.ndarray]]:
    """(name, what it covers, float64 logits (N, n, C)) per case."""
    random = rng.normal(size=(8, 4, 3)) * 2.5
    ties = np.array([
        [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [0.0, 2.0, 2.0]],   # ties -> labels 0, 0, 1, 1
        [[2.0, 2.0, 2.0], [0.0, 3.0, 3.0], [3.0, 0.0, 3.0], [3.0, 3.0, 0.0]],   # ties -> labels 0, 1, 0, 0
        [[0.0, 5.0, 5.0], [5.0, 5.0, 0.0], [5.0, 0.0, 5.0], [0.0, 0.0, 0.0]],   # ties -> labels 1, 0, 0, 0
    ])
    uniform = np.zeros((2, 4, 3))
    uniform[1, 2:] = [9.0, 0.0, 0.0]  # second input: uniform at layers 1-2, then confident in label 0
    confident = np.array([
        [[40.0, -40.0, 0.0]] * 4,                                                # always label 0, entropy ~ 0
        [[40.0, -40.0, 0.0], [-40.0, 40.0, 0.0], [40.0, -40.0, 0.0], [-40.0, 40.0, 0.0]],  # flips every layer
        [[0.0, 0.0, 25.0], [0.0, 0.0, 25.0], [0.0, 0.0, 25.0], [0.0, 25.0, 0.0]],
    ])
    binary = rng.normal(size=(10, 6, 2)) * 3.0  # like the default model: 6 layers, 2 labels
    binary[0] = [[0.0, 0.0]] * 6                 # uniform over 2 labels: entropy = ln 2 exactly
    return [
        ("random", "seeded normal logits x 2.5, 3 labels", random),
        ("ties", "exact ties inside rows: argmax takes the lowest label index", ties),
        ("uniform", "uniform softmax (entropy = ln C, divergence 0 between equal off-ramps)", uniform),
        ("confident", "very confident rows (entropy ~ 0), a label flipping every layer", confident),
        ("binary", "seeded normal logits x 3, 2 labels and 6 layers like the default model", binary),
    ]


def _between(scores: np.ndarray, count: int) -> list[float]:
    """Up to ``count`` thresholds half-way between distinct finite scores that are > 2*MARGIN apart."""
    values = np.unique(scores[np.isfinite(scores)])
    mids = [(a + b) / 2 for a, b in zip(values[:-1], values[1:]) if b - a > 2 * MARGIN]
    if not mids:
        return []
    picks = np.unique(np.linspace(0, len(mids) - 1, count).round().astype(int))
    return [float(round(mids[i], 9)) for i in picks]


def _settings(logits: np.ndarray) -> list[exits.ExitSetting]:
    n, c = logits.shape[1], logits.shape[2]
    out = []
    for policy, top in ((exits.ENTROPY, math.log(c)), (exits.DIVERGENCE, math.log(2))):
        scores = exits.exit_scores(logits, policy)
        for s in [0.0, *_between(scores, 3), round(top * 1.01, 6)]:
            out.append(exits.ExitSetting(policy, s))
        # Per-layer lists: one S_i between layer i's own scores, and a falling schedule with 0 at the end.
        per_layer = []
        for i in range(n):
            mid = _between(scores[:, i], 1)
            per_layer.append(mid[0] if mid else 0.0)
        out.append(exits.ExitSetting(policy, 0.0, tuple(per_layer)))
        out.append(exits.ExitSetting(policy, 0.0, tuple(round(top * 1.01 * (n - 1 - i) / (n - 1), 6)
                                                        for i in range(n))))
        # Per-label lists: label c's S between the scores of the off-ramps that predict c (a strict S for
        # label 0, a loose one for the others, as a moderation setting would be), and 0 for one label.
        predicted = exits.predicted_labels(logits)
        strict, loose = [], []
        for label in range(c):
            mids = _between(scores[predicted == label], 3)
            strict.append(mids[0] if mids else 0.0)
            loose.append(mids[-1] if mids else 0.0)
        out.append(exits.ExitSetting(policy, strict[0], label_thresholds=(strict[0], *loose[1:])))
        out.append(exits.ExitSetting(policy, 0.0, label_thresholds=(0.0, *loose[1:])))
    out += [exits.ExitSetting(exits.PATIENCE, float(t)) for t in range(1, n + 1)]
    return out


def _check_margin(scores: np.ndarray, setting: exits.ExitSetting, predicted: np.ndarray) -> None:
    """Raises ValueError if a non-zero threshold is within MARGIN of a score it is compared with
    (``predicted``: int (N, n) labels, which pick a per-label threshold)."""
    if setting.policy == exits.PATIENCE:
        return
    if setting.label_thresholds is not None:
        s = np.asarray(setting.label_thresholds)[predicted]
    else:
        s = setting.thresholds(scores.shape[1])[None, :]
    close = np.isfinite(scores) & (s > 0) & (np.abs(scores - s) < MARGIN)
    if close.any():
        raise ValueError(f"threshold too close to a score for {setting}: pick other thresholds or another seed")


def golden(seed: int = DEFAULT_SEED) -> dict:
    """The exit-policy golden document; see the module docstring.

    Args:
        seed: numpy seed of the random cases.
    Returns:
        A JSON-ready dict (``format_version``, ``generator``, ``seed``, ``definitions``, ``cases``); logits
        and probabilities as nested lists [input][layer-1][label], +inf divergence scores as ``float("inf")``.
    Raises:
        ValueError: a non-zero threshold within :data:`MARGIN` of a score it is compared with.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for name, description, logits in _cases(rng):
        logits = np.round(logits, 6)  # what JSON carries is what both sides compute from
        n = logits.shape[1]
        rows = []
        for setting in _settings(logits):
            scores = exits.exit_scores(logits, setting.policy)
            _check_margin(scores, setting, exits.predicted_labels(logits))
            layers = exits.exit_layers(logits, setting)
            rows.append({"policy": setting.policy, "threshold": setting.threshold,
                         "layer_thresholds": None if setting.layer_thresholds is None else list(setting.layer_thresholds),
                         "label_thresholds": None if setting.label_thresholds is None else list(setting.label_thresholds),
                         "exit_layers": layers.tolist(),
                         "expected_saving": exits.expected_saving(layers, n)})
        cases.append({
            "name": name, "description": description,
            "num_inputs": logits.shape[0], "num_layers": n, "num_labels": logits.shape[2],
            "logits": logits.tolist(),
            "probabilities": exits.softmax(logits).tolist(),
            "predicted_labels": exits.predicted_labels(logits).tolist(),
            "scores": {p: exits.exit_scores(logits, p).tolist() for p in exits.POLICIES},
            "settings": rows,
        })
    return {
        "format_version": FORMAT_VERSION,
        "generator": GENERATOR,
        "seed": seed,
        "definitions": {
            "shapes": "logits and probabilities [input][layer-1][label]; scores and predicted_labels [input][layer-1]",
            "entropy": "H_i = -sum_c p_c ln p_c of off-ramp i, nats; exit when H_i < S_i (DeeBERT sec. 3.2)",
            "divergence": "JS(p_i, p_{i-1}), nats; +Infinity at layer 1 (never exits there); exit when < S_i",
            "patience": "consecutive earlier off-ramps with the same label as off-ramp i (layers); exit when >= t",
            "threshold": "S in nats (entropy, divergence) or patience t in layers (patience)",
            "layer_thresholds": "S_1..S_n replacing threshold when not null (entropy, divergence only)",
            "label_thresholds": "S^(0)..S^(C-1) by label index, when not null: at layer i the score is compared "
                                "with the S of off-ramp i's predicted label (entropy, divergence only; never "
                                "together with layer_thresholds)",
            "exit_layers": "1-based; the last layer takes whoever is left",
            "predicted_labels": "argmax of the logits, a tie goes to the lowest label index",
            "expected_saving": "1 - sum_i i*N_i / (n*N), DeeBERT eq. 2",
            "margin": f"every non-zero threshold is at least {MARGIN} nats from every score it is compared with",
        },
        "cases": cases,
    }


# ----------------------------------------------------------------------------- sentence-pair tokens
#: The second golden document: token ids and token type ids of sentence pairs, from the committed default
#: model's tokenizer.json, at two truncation lengths. ``tests/test_pairs.py`` re-encodes it in Python and
#: ``streams-app``'s ``PairTokenizationGoldenTest`` in Java (DJL's tokenizer on the same file).
PAIR_TOKENS_FORMAT_VERSION = 1
#: The document's ``tokenizer`` field: the tokenizer the committed file is made from, relative to
#: ``model-export/`` (the Java test reads it from there). A recorded name, part of the frozen format; this
#: module never opens it (:func:`pair_tokens_golden` takes the tokenizer's path).
PAIR_TOKENIZER = "models/deebert-spamassassin-minilm-l6/tokenizer.json"
PAIR_MAX_SEQ_LENGTHS = (16, 128)   # 16: 13 non-special tokens (odd budget: the longer text keeps the extra one)

_PAIR_CASES = [
    ("short pair", "Meeting moved", "The review is now on Thursday at 10."),
    ("unicode and accents", "Grüße aus München", "naïve café résumé ☕ 東京 — ok?"),
    ("long second text", "Re: build failure", " ".join(["the nightly build failed again on the parser module"] * 12)),
    ("long first text", " ".join(["WIN a FREE cruise now click here"] * 12), "unsubscribe below"),
    ("both long, equal length", " ".join(["alpha beta gamma"] * 20), " ".join(["delta epsilon zeta"] * 20)),
    ("both long, first longer by one token", " ".join(["alpha beta gamma"] * 20) + " omega",
     " ".join(["delta epsilon zeta"] * 20)),
    ("both long, second longer by one token", " ".join(["alpha beta gamma"] * 20),
     " ".join(["delta epsilon zeta"] * 20) + " omega"),
    ("whitespace and punctuation", "  spaced\tout  subject ", "line one\n\nline two!!! (3) $1,000.00"),
    ("one-word texts", "hi", "there"),
]


def pair_tokens_golden(tokenizer_path: Path) -> dict:
    """The pair-tokenisation golden document: for every case and every length in
    :data:`PAIR_MAX_SEQ_LENGTHS`, ``tokenizers``' ``encode(text, text_pair)`` ids and type ids with
    longest-first truncation (:func:`deebert_export.tokenization.encode_pairs`).

    Args:
        tokenizer_path: the ``tokenizer.json`` to encode with; the committed file is made from the one
            :data:`PAIR_TOKENIZER` names (the document records that name, whatever path is given).
    Returns:
        A JSON-ready dict (``format_version``, ``generator``, ``tokenizer``, ``definitions``, ``cases``);
        every case has int lists ``token_ids`` and ``token_type_ids`` of equal length <= its ``max_seq_length``.
    """
    from .tokenization import encode_pairs, load_tokenizer
    rows = []
    for max_len in PAIR_MAX_SEQ_LENGTHS:
        tok = load_tokenizer(tokenizer_path, max_len)
        ids, types = encode_pairs(tok, [c[1] for c in _PAIR_CASES], [c[2] for c in _PAIR_CASES])
        for (name, text, text_pair), i, t in zip(_PAIR_CASES, ids, types):
            rows.append({"name": name, "max_seq_length": max_len, "text": text, "text_pair": text_pair,
                         "token_ids": i, "token_type_ids": t})
    return {
        "format_version": PAIR_TOKENS_FORMAT_VERSION,
        "generator": PAIR_TOKENS_GENERATOR,
        "tokenizer": PAIR_TOKENIZER,
        "definitions": {
            "token_ids": "[CLS] text [SEP] text_pair [SEP], truncated to max_seq_length tokens (special tokens "
                         "included), longest first: the longer text loses tokens first",
            "token_type_ids": "0 for [CLS], text and the first [SEP]; 1 for text_pair and the last [SEP]",
        },
        "cases": rows,
    }
