"""DeeBERT: a BERT encoder with one off-ramp after every transformer layer (Xin et al. 2020, section 3).

One module per concept: :mod:`.bert_config` (hyper-parameters), :mod:`.blocks` (initialiser, dense,
layer norm, residual output), :mod:`.embeddings`, :mod:`.attention` (self-attention),
:mod:`.feed_forward`, :mod:`.transformer_layer`, :mod:`.bypass` (the BADGE-style block-wise bypass,
Zhu et al. 2023), :mod:`.off_ramp` and :mod:`.deebert` (:class:`DeeBertModel`, which composes them).

The same encoder runs RoBERTa-family checkpoints (``model_type`` "roberta"): their architecture is
BERT's, except that position ids start after the padding index (:func:`roberta_position_ids`) and the
token-type table has one row.

Written with plain ``tf.Variable`` weights and TensorFlow ops, not Keras layers: a SavedModel built
this way loads in the TF 2.16 C runtime that DJL's TensorFlow engine uses (a Keras 3 model attached
to a ``tf.Module`` does not; see ``../shared/platform-notes.md``), and the very same code serves
training, evaluation and export, so the exported signatures cannot drift from the trained model.

Shapes use ``B`` = batch size, ``T`` = sequence length (tokens, incl. [CLS]/[SEP]), ``H`` = hidden
size, ``I`` = intermediate (feed-forward) size, ``C`` = number of labels, ``n`` = number of transformer
layers (= number of off-ramps). Layer and off-ramp indices are 0-based in Python; ``exit layer`` values
reported outside are 1-based.
"""
from .bert_config import MODEL_TYPES, BertConfig
from .deebert import DeeBertModel
from .embeddings import roberta_position_ids

__all__ = ["MODEL_TYPES", "BertConfig", "DeeBertModel", "roberta_position_ids"]
