"""Sinusoidal positional encoding (Vaswani et al., 2017, Section 3.5)."""

import numpy as np


def positional_encoding(length, d_model):
    """Return the (length, d_model) table of sines (even) and cosines (odd)."""
    if d_model % 2:
        raise ValueError(f"d_model must be even, got {d_model}")
    pos = np.arange(length, dtype=np.float64)[:, None]
    i = np.arange(d_model // 2, dtype=np.float64)[None, :]
    angle = pos / np.power(10000.0, 2 * i / d_model)
    pe = np.zeros((length, d_model))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle)
    return pe
