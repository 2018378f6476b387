"""Building blocks shared by every part of the model: the seeded weight initialiser, a dense
(affine) projection, layer normalisation, dropout and the feed-forward activation.

Every weight is a plain ``tf.Variable`` (not a Keras layer): see :mod:`deebert_export.model` for why.
A weight may be stored as float16 or float32; :func:`as_float32` casts it where it is used, so all
computation is float32.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

# BERT's initializer for every kernel and table (Devlin et al. 2019; ``initializer_range`` 0.02).
INIT_STDDEV = 0.02


class WeightInit:
    """Creates the model's variables from one seeded NumPy generator.

    Only :meth:`normal` draws from the generator, so the initial values depend on the seed and on the
    order of the :meth:`normal` calls: every module creates its variables in a fixed order, and
    :class:`~deebert_export.model.deebert.DeeBertModel` creates its modules in a fixed order, so that a
    seeded run always starts from the same weights.

    Args:
        seed: seed of ``numpy.random.default_rng``.
    """

    def __init__(self, seed: int):
        self._rng = np.random.default_rng(seed)

    def normal(self, shape, name: str, dtype) -> tf.Variable:
        """Normal(0, :data:`INIT_STDDEV`) values, drawn in float64 and rounded to float32 (then to
        ``dtype``)."""
        return self._variable(self._rng.normal(0.0, INIT_STDDEV, size=shape), name, dtype)

    def ones(self, shape, name: str, dtype) -> tf.Variable:
        return self._variable(np.ones(shape), name, dtype)

    def zeros(self, shape, name: str, dtype) -> tf.Variable:
        return self._variable(np.zeros(shape), name, dtype)

    @staticmethod
    def _variable(value: np.ndarray, name: str, dtype) -> tf.Variable:
        return tf.Variable(value.astype(np.float32), dtype=dtype, name=name, trainable=True)


def as_float32(v) -> tf.Tensor:
    """A weight (or a slice or gather of one) as float32, whatever its storage dtype; a float32 one
    is returned as it is (no Cast op)."""
    return tf.cast(v, tf.float32) if v.dtype != tf.float32 else v


def dropout(x: tf.Tensor, rate: float, training: bool) -> tf.Tensor:
    """``tf.nn.dropout`` while training with ``rate`` > 0, else ``x`` itself (no op in the graph)."""
    return tf.nn.dropout(x, rate=rate) if training and rate > 0 else x


def activation(x: tf.Tensor, hidden_act: str) -> tf.Tensor:
    """The feed-forward activation named by the config's ``hidden_act``: ``relu``, ``gelu`` (exact,
    erf-based) or ``gelu_new`` (tanh approximation). Other names are rejected by ``BertConfig.from_dict``."""
    if hidden_act == "relu":
        return tf.nn.relu(x)
    return tf.nn.gelu(x, approximate=(hidden_act == "gelu_new"))


class Dense(tf.Module):
    """Affine projection ``x @ kernel + bias``.

    Weights: ``kernel`` (K, K') and ``bias`` (K',), created in that order; the kernel is normal
    (std 0.02) or, with ``zero_kernel``, zero; the bias is zero. The kernel is laid out (in, out): a
    PyTorch ``Linear`` weight (out, in) is its transpose.

    Args:
        init: the model's :class:`WeightInit`.
        name: variable name prefix, e.g. ``layers/0/attention/query`` (the variables are
            ``<name>/kernel`` and ``<name>/bias``).
        zero_kernel: start the kernel at zero instead of drawing it (draws nothing from ``init``).
    """

    def __init__(self, init: WeightInit, in_size: int, out_size: int, name: str, dtype, zero_kernel: bool = False):
        super().__init__(name=name.rsplit("/", 1)[-1])
        make_kernel = init.zeros if zero_kernel else init.normal
        self.kernel = make_kernel((in_size, out_size), f"{name}/kernel", dtype)
        self.bias = init.zeros((out_size,), f"{name}/bias", dtype)

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        """float32 (N, K) -> float32 (N, K'). A 2-D MatMul followed by BiasAdd, the pair oneDNN fuses."""
        return tf.nn.bias_add(tf.matmul(x, as_float32(self.kernel)), as_float32(self.bias))

    def named_variables(self) -> dict[str, tf.Variable]:
        return {"kernel": self.kernel, "bias": self.bias}


class LayerNorm(tf.Module):
    """Layer normalisation over the last axis (Ba et al. 2016), as BERT applies it:
    ``(x - mean) / sqrt(var + eps) * gamma + beta``, with the biased variance.

    Weights: ``gamma`` (H,) starting at 1 and ``beta`` (H,) starting at 0, created in that order.
    """

    def __init__(self, init: WeightInit, size: int, eps: float, name: str, dtype):
        super().__init__(name=name.rsplit("/", 1)[-1])
        self.eps = eps
        self.gamma = init.ones((size,), f"{name}/gamma", dtype)
        self.beta = init.zeros((size,), f"{name}/beta", dtype)

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        """float32 (..., H) -> float32 (..., H)."""
        mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(var + self.eps) * as_float32(self.gamma) + as_float32(self.beta)

    def named_variables(self) -> dict[str, tf.Variable]:
        return {"gamma": self.gamma, "beta": self.beta}


class ResidualOutput(tf.Module):
    """The output step that closes both halves of a transformer layer (Vaswani et al. 2017, section
    3.1; Hugging Face's ``BertSelfOutput`` and ``BertOutput``): dense projection, dropout, residual
    connection, layer normalisation: ``layer_norm(dropout(dense(x)) + residual)``.

    Weights: ``dense/kernel`` (K, H), ``dense/bias`` (H,), ``layer_norm/gamma`` (H,), ``layer_norm/beta``
    (H,), created in that order.
    """

    def __init__(self, init: WeightInit, in_size: int, hidden_size: int, eps: float, dropout_rate: float,
                 name: str, dtype):
        super().__init__(name=name.rsplit("/", 1)[-1])
        self.dropout_rate = dropout_rate
        self.dense = Dense(init, in_size, hidden_size, f"{name}/dense", dtype)
        self.layer_norm = LayerNorm(init, hidden_size, eps, f"{name}/layer_norm", dtype)

    def __call__(self, x: tf.Tensor, residual: tf.Tensor, training: bool) -> tf.Tensor:
        """``x``: float32 (N, K); ``residual``: float32 (N, H), the block's input. Returns float32 (N, H)."""
        return self.layer_norm(dropout(self.dense(x), self.dropout_rate, training) + residual)

    def named_variables(self) -> dict[str, tf.Variable]:
        return prefixed({"dense": self.dense, "layer_norm": self.layer_norm})


def prefixed(parts: dict) -> dict[str, tf.Variable]:
    """``{"a": module_or_variable, ...}`` -> ``{"a/<name>": variable, ...}`` in the order given, a
    module's variables in its own ``named_variables()`` order."""
    out = {}
    for prefix, part in parts.items():
        if isinstance(part, tf.Variable):
            out[prefix] = part
        else:
            out.update({f"{prefix}/{k}": v for k, v in part.named_variables().items()})
    return out
