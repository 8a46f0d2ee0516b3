"""Binary focal loss (Lin et al., 2017, Section 3)."""

import numpy as np


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    """Mean of -alpha_t (1 - p_t)^gamma log(p_t) over all elements."""
    x = np.asarray(logits, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    # log sigma(z) = -logaddexp(0, -z), stable for any z.
    signed = np.where(y == 1, x, -x)
    log_pt = -np.logaddexp(0.0, -signed)
    pt = np.exp(log_pt)
    alpha_t = np.where(y == 1, alpha, 1 - alpha)
    return float(np.mean(-alpha_t * (1 - pt) ** gamma * log_pt))
