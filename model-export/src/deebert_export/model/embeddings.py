"""The embedding layer (BERT, Devlin et al. 2019, section 3, "Input/Output Representations"): word +
position + token-type embeddings, layer-normalised; with RoBERTa's position ids for ``model_type``
"roberta"."""
from __future__ import annotations

import tensorflow as tf

from .bert_config import BertConfig
from .blocks import LayerNorm, WeightInit, as_float32, dropout


def roberta_position_ids(attention_mask: tf.Tensor, padding_idx: int) -> tf.Tensor:
    """RoBERTa's position ids: the rule of Hugging Face's ``create_position_ids_from_input_ids``
    (``transformers`` ``models/roberta/modeling_roberta.py``), applied to the attention mask.

    The t-th real token of a row (t = 1, 2, ...) gets position ``padding_idx + t``, so the first one (<s>)
    gets ``padding_idx + 1``; a padding position gets ``padding_idx``. Hugging Face finds padding by
    ``input_ids != padding_idx``; this reads the mask instead, because the runtimes pad with id 0 (which
    is <s> in a RoBERTa vocabulary), so the result never depends on the id padding is filled with.

    Args:
        attention_mask: int32 (B, T), 1 for real tokens and 0 for padding (any non-zero counts as real).
        padding_idx: the checkpoint's ``pad_token_id``.
    Returns:
        int32 (B, T) row indices into the (max_position_embeddings, H) position table.
    """
    real = tf.cast(tf.not_equal(attention_mask, 0), tf.int32)
    return tf.cumsum(real, axis=1) * real + padding_idx


class Embeddings(tf.Module):
    """Word, position and token-type tables and the layer norm over their sum.

    Weights, created in this order (Hugging Face names in brackets, below ``embeddings.``):
    ``word_embeddings`` (vocab_size, H) [``word_embeddings.weight``], ``position_embeddings``
    (max_position_embeddings, H) [``position_embeddings.weight``], ``token_type_embeddings``
    (type_vocab_size, H) [``token_type_embeddings.weight``], ``layer_norm/gamma`` and
    ``layer_norm/beta`` (H,) [``LayerNorm.weight``, ``LayerNorm.bias``]. The three tables start
    normal (std 0.02).

    Args:
        init: the model's :class:`~.blocks.WeightInit`.
        dtype: storage dtype of the position and token-type tables and the layer norm.
        word_embedding_dtype: storage dtype of the word table alone (it is cast only in the rows a batch
            gathers, so it can stay float16 when every other weight is float32).
    """

    def __init__(self, config: BertConfig, init: WeightInit, dtype, word_embedding_dtype, name: str = "embeddings"):
        super().__init__(name=name)
        self.config = config
        H = config.hidden_size
        self.word_embeddings = init.normal((config.vocab_size, H), f"{name}/word_embeddings", word_embedding_dtype)
        self.position_embeddings = init.normal((config.max_position_embeddings, H), f"{name}/position_embeddings",
                                               dtype)
        self.token_type_embeddings = init.normal((config.type_vocab_size, H), f"{name}/token_type_embeddings", dtype)
        self.layer_norm = LayerNorm(init, H, config.layer_norm_eps, f"{name}/layer_norm", dtype)

    def __call__(self, input_ids: tf.Tensor, training: bool = False, attention_mask: tf.Tensor | None = None,
                 token_type_ids: tf.Tensor | None = None) -> tf.Tensor:
        """The embedding layer's output.

        Args:
            input_ids: int32 (B, T) token ids (WordPiece or BPE, as the checkpoint's tokenizer gives them).
            attention_mask: int32 (B, T), 1 for real tokens and 0 for padding. RoBERTa needs it for its
                position ids (:func:`roberta_position_ids`); BERT ignores it.
            token_type_ids: int32 (B, T) segment ids, 0 for ``[CLS] text [SEP]`` and 1 for
                ``text_pair [SEP]`` (sentence pairs), values < ``type_vocab_size``; ``None`` for single
                texts: every position adds token type 0's row (the graph single-text models export).
        Returns:
            float32 (B, T, H): word + position + token-type embeddings, layer-normalised (then dropout
            while training).
        Raises:
            ValueError: for a RoBERTa model called without ``attention_mask``.
        """
        # Gather (and slice) BEFORE casting: casting the whole (vocab, H) table to float32 on every call
        # cost ~20 ms per signature call with float16 storage.
        x = as_float32(tf.gather(self.word_embeddings, input_ids))
        x += self._positions(input_ids, attention_mask)
        if token_type_ids is None or self.config.type_vocab_size == 1:
            # RoBERTa's table has one row: its tokenizer may still number a pair's segments 0/1.
            x += as_float32(self.token_type_embeddings[0:1])[tf.newaxis, :, :]
        else:
            x += as_float32(tf.gather(self.token_type_embeddings, token_type_ids))
        x = self.layer_norm(x)
        return dropout(x, self.config.hidden_dropout_prob, training)

    def _positions(self, input_ids: tf.Tensor, attention_mask: tf.Tensor | None) -> tf.Tensor:
        """float32 (1, T, H) for BERT (rows 0..T-1, the same for every row), (B, T, H) for RoBERTa (rows
        from :func:`roberta_position_ids`).

        Raises:
            ValueError: for RoBERTa without ``attention_mask``.
        """
        table = self.position_embeddings
        if self.config.model_type == "roberta":
            if attention_mask is None:
                raise ValueError("a RoBERTa model needs attention_mask for its position ids")
            return as_float32(tf.gather(table, roberta_position_ids(attention_mask, self.config.pad_token_id)))
        return as_float32(table[:tf.shape(input_ids)[1]])[tf.newaxis, :, :]

    def named_variables(self) -> dict[str, tf.Variable]:
        return {"word_embeddings": self.word_embeddings, "position_embeddings": self.position_embeddings,
                "token_type_embeddings": self.token_type_embeddings,
                **{f"layer_norm/{k}": v for k, v in self.layer_norm.named_variables().items()}}
