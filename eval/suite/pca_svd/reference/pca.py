"""PCA by the singular value decomposition (Shlens, 2014, Section 6)."""

import numpy as np


def pca(x, n_components):
    """Return the principal directions, their variances and the scores."""
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:n_components]
    variance = s[:n_components] ** 2 / (x.shape[0] - 1)
    return components, variance, centred @ components.T
