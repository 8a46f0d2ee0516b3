"""k-means++ seeding (Arthur and Vassilvitskii, 2007, Section 2.2)."""

import numpy as np


def kmeans_pp_init(x, k, rng):
    """Choose k centres among the rows of x with D(x)^2 weighting."""
    n = x.shape[0]
    if k < 1 or k > len(np.unique(x, axis=0)):
        raise ValueError(f"k must be between 1 and the number of distinct points, got {k}")
    centres = [x[rng.integers(n)]]
    d2 = ((x - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        idx = rng.choice(n, p=d2 / d2.sum())
        centres.append(x[idx])
        d2 = np.minimum(d2, ((x - x[idx]) ** 2).sum(axis=1))
    return np.array(centres)
