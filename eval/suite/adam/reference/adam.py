"""Adam's update with bias correction (Kingma and Ba, 2015, Algorithm 1)."""

import numpy as np


def adam_update(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    """Return the parameters and moment estimates after step t (t >= 1)."""
    if t < 1:
        raise ValueError(f"the step number t starts at 1, got {t}")
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
