"""Tiny random-init BERT and RoBERTa checkpoints in Hugging Face layout, for unit tests ONLY.

Real models always start from pre-trained weights (see :mod:`deebert_export.checkpoint`). These
exist so tests can run the whole pipeline (load -> two-stage training -> evaluate -> export) in
seconds, and so the Java classifier's unit tests have small real SavedModels
(``scripts/make_tiny_model.py``, ``scripts/make_tiny_pair_model.py``).

Test support, not part of the installed package: tests import it as ``support.tiny_checkpoints``
(pytest puts ``tests/`` on ``sys.path``); the scripts add ``tests/`` to ``sys.path`` themselves.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from deebert_export.checkpoint import default_backbone_dir

TINY_CONFIG = {
    "model_type": "bert", "hidden_size": 16, "num_hidden_layers": 3, "num_attention_heads": 2,
    "intermediate_size": 32, "max_position_embeddings": 64, "type_vocab_size": 2,
    "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
}


def write_tiny_checkpoint(out_dir: Path, seed: int = 7) -> Path:
    """Writes config.json, model.safetensors (random, std 0.02, HF/PyTorch names and layouts, with a
    pooler) and the default backbone's tokenizer.json (its 30522-token vocabulary sets ``vocab_size``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(default_backbone_dir() / "tokenizer.json", out_dir / "tokenizer.json")
    vocab = len(json.loads((out_dir / "tokenizer.json").read_text())["model"]["vocab"])
    cfg = dict(TINY_CONFIG, vocab_size=vocab)
    (out_dir / "config.json").write_text(json.dumps(cfg, indent=1))
    save_file(_random_encoder_weights(cfg, np.random.default_rng(seed), pooler=True), str(out_dir / "model.safetensors"))
    return out_dir


# RoBERTa's special tokens, in the ids roberta-base gives them (<mask> is last there; here it is 4).
ROBERTA_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")

TINY_ROBERTA_CONFIG = {
    "model_type": "roberta", "hidden_size": 16, "num_hidden_layers": 3, "num_attention_heads": 2,
    "intermediate_size": 32, "max_position_embeddings": 66, "type_vocab_size": 1, "pad_token_id": 1,
    "bos_token_id": 0, "eos_token_id": 2, "layer_norm_eps": 1e-5, "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
}


def train_tiny_bpe_tokenizer(texts: list[str], vocab_size: int = 400) -> Tokenizer:
    """Trains a byte-level BPE tokenizer laid out like roberta-base's ``tokenizer.json``: byte-level
    pre-tokenizer (no prefix space), ``<s>``=0 ``<pad>``=1 ``</s>``=2 ``<unk>``=3 ``<mask>``=4, and
    RoBERTa's post-processor, which wraps a text as ``<s> ... </s>``.

    Args:
        texts: training text (any Unicode: the 256 byte symbols are always in the vocabulary).
        vocab_size: vocabulary size, special tokens and the 256 byte symbols included.
    Returns:
        the tokenizer, with no truncation or padding set.
    """
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(ROBERTA_SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    # Positional: the binding takes (sep, cls, trim_offsets, add_prefix_space), not keywords.
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")),
                                                      ("<s>", tok.token_to_id("<s>")), True, False)
    return tok


def write_tiny_roberta_checkpoint(out_dir: Path, texts: list[str], seed: int = 7) -> Path:
    """Writes a tiny RoBERTa checkpoint as ``RobertaForMaskedLM`` saves one: config.json (``model_type``
    "roberta", ``pad_token_id`` 1, ``max_position_embeddings`` 66 = 64 positions + 2, one token type),
    model.safetensors (random, std 0.02; encoder under ``roberta.``, no pooler, an ``lm_head`` the loader
    must skip) and a byte-level BPE tokenizer.json trained on ``texts`` (:func:`train_tiny_bpe_tokenizer`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tok = train_tiny_bpe_tokenizer(texts)
    tok.save(str(out_dir / "tokenizer.json"))
    cfg = dict(TINY_ROBERTA_CONFIG, vocab_size=tok.get_vocab_size())
    (out_dir / "config.json").write_text(json.dumps(cfg, indent=1))
    weights = {"roberta." + k: v
               for k, v in _random_encoder_weights(cfg, np.random.default_rng(seed), pooler=False).items()}
    H, rng = cfg["hidden_size"], np.random.default_rng(seed + 1)
    weights.update({"lm_head.dense.weight": rng.normal(0, 0.02, size=(H, H)).astype(np.float32),
                    "lm_head.dense.bias": np.zeros(H, np.float32),
                    "lm_head.bias": np.zeros(cfg["vocab_size"], np.float32)})
    save_file(weights, str(out_dir / "model.safetensors"))
    return out_dir


def _random_encoder_weights(cfg: dict, rng: np.random.Generator, pooler: bool) -> dict[str, np.ndarray]:
    """Embeddings, the pooler if asked and the transformer layers under Hugging Face's names (no model
    prefix), PyTorch layouts: Linear weights (out, in); random normal std 0.02, LayerNorm gamma 1 and
    beta 0. The draw order is the one the committed tiny BERT model was made with."""
    H, I, vocab = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    w = lambda *shape: rng.normal(0, 0.02, size=shape).astype(np.float32)
    t = {"embeddings.word_embeddings.weight": w(vocab, H),
         "embeddings.position_embeddings.weight": w(cfg["max_position_embeddings"], H),
         "embeddings.token_type_embeddings.weight": w(cfg["type_vocab_size"], H),
         "embeddings.LayerNorm.weight": np.ones(H, np.float32), "embeddings.LayerNorm.bias": np.zeros(H, np.float32)}
    if pooler:
        t.update({"pooler.dense.weight": w(H, H), "pooler.dense.bias": np.zeros(H, np.float32)})
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for name, (o, n_in) in {"attention.self.query": (H, H), "attention.self.key": (H, H),
                                "attention.self.value": (H, H), "attention.output.dense": (H, H),
                                "intermediate.dense": (I, H), "output.dense": (H, I)}.items():
            t[p + name + ".weight"] = w(o, n_in)  # PyTorch Linear layout (out, in)
            t[p + name + ".bias"] = w(o)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            t[p + ln + ".weight"] = np.ones(H, np.float32)
            t[p + ln + ".bias"] = np.zeros(H, np.float32)
    return t
