"""Layer normalisation (Ba et al., 2016, Section 3)."""

import numpy as np


def layer_norm(x, gamma, beta, eps=1e-5):
    """Normalise x over its last axis, then scale by gamma and shift by beta."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta
