"""Scaled dot-product attention (Vaswani et al., 2017, section 3.2.1) in NumPy."""

import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

NEG_INF = -1e9


@dataclass
class AttentionConfig:
    """Shapes of one attention layer."""

    model_dim: int = 512
    num_heads: int = 8


def softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """Return a numerically stable softmax along axis.

    Args:
        scores: Unnormalised scores.
        axis: The axis to normalise.

    Returns:
        Probabilities that sum to one along axis.
    """
    shifted = scores - scores.max(axis=axis, keepdims=True)
    exp_scores = np.exp(shifted)
    return exp_scores / exp_scores.sum(axis=axis, keepdims=True)


def scaled_dot_product_attention(query, key, value, mask=None):
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V.

    Args:
        query: Array of shape (..., n_queries, d_k).
        key: Array of shape (..., n_keys, d_k).
        value: Array of shape (..., n_keys, d_v).
        mask: Optional boolean array, True where attention is allowed.

    Returns:
        The attended values and the attention weights.
    """
    keyDim = query.shape[-1]
    scores = query @ np.swapaxes(key, -1, -2) / np.sqrt(keyDim)
    if mask is not None:
        scores = np.where(mask, scores, NEG_INF)
    weights = softmax(scores)
    logger.debug("attention weights of shape %s", weights.shape)
    return weights @ value, weights


def splitHeads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """Reshape (batch, seq, model_dim) into (batch, heads, seq, head_dim)."""
    batch, seq, model_dim = x.shape
    head_dim = model_dim // num_heads
    return x.reshape(batch, seq, num_heads, head_dim).transpose(0, 2, 1, 3)


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    q = rng.normal(size=(2, 4, 8))
    out, attn = scaled_dot_product_attention(q, q, q)
    print(f"output {out.shape}, weights {attn.shape}")
