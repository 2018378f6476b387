"""A tiny random-init BERT checkpoint in Hugging Face layout, for unit tests ONLY.

Real models always start from pre-trained weights (see :mod:`deebert_export.checkpoint`). This one
exists so tests can run the whole pipeline (load -> two-stage training -> evaluate -> export) in
seconds, and so the Java classifier's unit tests have a small real SavedModel.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from .checkpoint import default_backbone_dir

TINY_CONFIG = {
    "model_type": "bert", "hidden_size": 16, "num_hidden_layers": 3, "num_attention_heads": 2,
    "intermediate_size": 32, "max_position_embeddings": 64, "type_vocab_size": 2,
    "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
}


def write_tiny_checkpoint(out_dir: Path, seed: int = 7) -> Path:
    """Writes config.json, model.safetensors (random, std 0.02, HF/PyTorch names and layouts) and the
    default backbone's tokenizer.json (its 30522-token vocabulary sets ``vocab_size``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(default_backbone_dir() / "tokenizer.json", out_dir / "tokenizer.json")
    vocab = len(json.loads((out_dir / "tokenizer.json").read_text())["model"]["vocab"])
    cfg = dict(TINY_CONFIG, vocab_size=vocab)
    (out_dir / "config.json").write_text(json.dumps(cfg, indent=1))
    rng = np.random.default_rng(seed)
    H, I = cfg["hidden_size"], cfg["intermediate_size"]
    w = lambda *shape: rng.normal(0, 0.02, size=shape).astype(np.float32)
    t = {"embeddings.word_embeddings.weight": w(vocab, H),
         "embeddings.position_embeddings.weight": w(cfg["max_position_embeddings"], H),
         "embeddings.token_type_embeddings.weight": w(2, H),
         "embeddings.LayerNorm.weight": np.ones(H, np.float32), "embeddings.LayerNorm.bias": np.zeros(H, np.float32),
         "pooler.dense.weight": w(H, H), "pooler.dense.bias": np.zeros(H, np.float32)}
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
    save_file(t, str(out_dir / "model.safetensors"))
    return out_dir
