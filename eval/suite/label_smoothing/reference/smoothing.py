"""Label-smoothing cross-entropy (Szegedy et al., 2016, Section 7)."""

import numpy as np


def label_smoothing_cross_entropy(logits, targets, epsilon):
    """Mean cross-entropy against (1 - eps) one-hot + eps / K."""
    n, k = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    q = np.full((n, k), epsilon / k)
    q[np.arange(n), targets] += 1 - epsilon
    return float(-(q * log_p).sum(axis=1).mean())
