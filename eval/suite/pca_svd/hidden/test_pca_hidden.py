import numpy as np
from numpy.testing import assert_allclose

from pca import pca


def _data(seed=0):
    rng = np.random.default_rng(seed)
    mix = np.array([[3.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.5, 0.2]])
    return rng.normal(size=(200, 3)) @ mix + np.array([5.0, -2.0, 1.0])


def test_variances_are_the_covariance_eigenvalues():
    x = _data()
    _, var, _ = pca(x, 3)
    eig = np.sort(np.linalg.eigvalsh(np.cov(x, rowvar=False)))[::-1]
    assert_allclose(var, eig, rtol=1e-6)


def test_components_are_orthonormal_eigenvectors():
    x = _data(1)
    comps, var, _ = pca(x, 3)
    assert comps.shape == (3, 3)
    assert_allclose(comps @ comps.T, np.eye(3), atol=1e-8)
    cov = np.cov(x, rowvar=False)
    for c, lam in zip(comps, var):
        assert_allclose(cov @ c, lam * c, rtol=1e-6, atol=1e-8)


def test_scores_project_the_centred_data():
    x = _data(2)
    comps, var, z = pca(x, 2)
    assert z.shape == (200, 2)
    assert_allclose(z, (x - x.mean(axis=0)) @ comps.T, rtol=1e-6, atol=1e-8)
    assert_allclose(z.mean(axis=0), np.zeros(2), atol=1e-8)
    assert_allclose(z.var(axis=0, ddof=1), var, rtol=1e-6)


def test_points_on_a_line():
    t = np.linspace(-1.0, 1.0, 11)
    x = np.stack([t, t], axis=1) + 3.0
    comps, var, _ = pca(x, 2)
    assert_allclose(np.abs(comps[0]), [1 / np.sqrt(2)] * 2, rtol=1e-6)
    assert_allclose(var[0], 2 * np.var(t, ddof=1), rtol=1e-6)
    assert abs(var[1]) < 1e-12


def test_full_reconstruction_and_order():
    x = _data(3)
    comps, var, z = pca(x, 3)
    assert np.all(np.diff(var) <= 0)
    assert_allclose(z @ comps + x.mean(axis=0), x, rtol=1e-6, atol=1e-8)
