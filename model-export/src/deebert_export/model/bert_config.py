"""The encoder hyper-parameters: the subset of a Hugging Face ``config.json`` that defines a BERT or
RoBERTa encoder."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

# Hugging Face ``model_type`` values whose checkpoints this encoder reproduces. They differ only in the
# position ids (see :func:`.embeddings.roberta_position_ids`) and in the tokenizer that comes with the checkpoint.
MODEL_TYPES = ("bert", "roberta")


@dataclasses.dataclass(frozen=True)
class BertConfig:
    """The subset of a Hugging Face ``config.json`` that defines a BERT or RoBERTa encoder.

    ``model_type`` is ``"bert"`` or ``"roberta"``; ``pad_token_id`` is the checkpoint's padding id, which
    for RoBERTa is also the ``padding_idx`` its position ids are offset by (1 for roberta-base, whose
    ``max_position_embeddings`` is 514 = 512 positions + 2). A config without these two fields reads as
    BERT with pad id 0.
    """

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    hidden_act: str = "gelu"
    model_type: str = "bert"
    pad_token_id: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> "BertConfig":
        """Reads a Hugging Face BERT or RoBERTa ``config.json`` dict; unknown keys are ignored.

        Raises:
            ValueError: if the model type is not one of :data:`MODEL_TYPES`, a key is missing, the activation
                is unsupported, or a RoBERTa position table has no row past the padding index.
        """
        model_type = d.get("model_type", "bert")
        if model_type not in MODEL_TYPES:
            raise ValueError(f"unsupported model_type {model_type!r}: only {' and '.join(MODEL_TYPES)} checkpoints")
        names = {f.name for f in dataclasses.fields(cls)}
        missing = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING and f.name not in d]
        if missing:
            raise ValueError(f"config.json lacks {missing}")
        values = {k: v for k, v in d.items() if k in names and v is not None}
        values["model_type"] = model_type
        if model_type == "roberta":
            values.setdefault("pad_token_id", 1)  # transformers' RobertaConfig default
        cfg = cls(**values)
        if cfg.hidden_act not in ("gelu", "gelu_new", "relu"):
            raise ValueError(f"unsupported hidden_act {cfg.hidden_act!r}")
        if cfg.hidden_size % cfg.num_attention_heads:
            raise ValueError("hidden_size must be a multiple of num_attention_heads")
        if cfg.max_positions < 1:
            raise ValueError(f"max_position_embeddings {cfg.max_position_embeddings} leaves no position after "
                             f"padding_idx {cfg.pad_token_id}")
        return cfg

    @property
    def max_positions(self) -> int:
        """Longest input (tokens, special tokens included) the position table covers: BERT uses rows
        0..T-1, so ``max_position_embeddings``; RoBERTa uses rows ``pad_token_id + 1`` .. ``pad_token_id + T``,
        so ``max_position_embeddings - pad_token_id - 1`` (512 for roberta-base)."""
        if self.model_type == "roberta":
            return self.max_position_embeddings - self.pad_token_id - 1
        return self.max_position_embeddings

    @classmethod
    def from_json_file(cls, path: Path) -> "BertConfig":
        return cls.from_dict(json.loads(Path(path).read_text()))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
