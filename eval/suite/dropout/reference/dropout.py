"""Inverted dropout (Srivastava et al., 2014, Section 4)."""

import numpy as np


def dropout(x, p, training, rng):
    """Zero each element with probability p and rescale the rest by 1/(1-p)."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if not training or p == 0:
        return x
    keep = rng.random(x.shape) >= p
    return np.where(keep, x / (1 - p), 0.0)
