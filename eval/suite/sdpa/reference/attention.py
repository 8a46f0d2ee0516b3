"""Scaled dot-product attention (Vaswani et al., 2017, Section 3.2.1)."""

import numpy as np


def scaled_dot_product_attention(q, k, v, mask=None):
    """Return softmax(q k^T / sqrt(d_k)) v and the attention weights."""
    d_k = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    exp = np.exp(scores)
    weights = exp / exp.sum(axis=-1, keepdims=True)
    return weights @ v, weights
