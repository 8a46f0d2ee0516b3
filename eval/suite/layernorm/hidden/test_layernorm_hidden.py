import math

import numpy as np
from numpy.testing import assert_allclose

from layernorm import layer_norm


def test_known_values_with_biased_variance_and_eps():
    x = np.array([[1.0, 2.0, 3.0]])
    eps = 1e-5
    sigma = math.sqrt(2.0 / 3.0 + eps)
    y = layer_norm(x, np.ones(3), np.zeros(3), eps=eps)
    assert_allclose(y, [[-1 / sigma, 0.0, 1 / sigma]], rtol=1e-5, atol=1e-8)


def test_each_row_has_zero_mean_unit_variance():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 5.0, size=(4, 6, 32))
    y = layer_norm(x, np.ones(32), np.zeros(32), eps=0.0)
    assert y.shape == x.shape
    assert_allclose(y.mean(axis=-1), np.zeros((4, 6)), atol=1e-8)
    assert_allclose(y.var(axis=-1), np.ones((4, 6)), rtol=1e-5)


def test_gain_and_bias_apply_per_feature():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 4))
    g, b = np.array([1.0, 2.0, -1.0, 0.5]), np.array([0.0, 1.0, 2.0, 3.0])
    base = layer_norm(x, np.ones(4), np.zeros(4))
    assert_allclose(layer_norm(x, g, b), base * g + b, rtol=1e-5, atol=1e-8)


def test_rows_are_independent_and_shift_invariant():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 8))
    y = layer_norm(x, np.ones(8), np.zeros(8), eps=0.0)
    moved = x.copy()
    moved[1] = moved[1] * 10.0 + 7.0
    y2 = layer_norm(moved, np.ones(8), np.zeros(8), eps=0.0)
    assert_allclose(y2, y, rtol=1e-5, atol=1e-8)


def test_eps_keeps_constant_rows_finite():
    y = layer_norm(np.full((2, 5), 4.0), np.ones(5), np.full(5, 0.25))
    assert np.all(np.isfinite(y))
    assert_allclose(y, np.full((2, 5), 0.25), rtol=1e-5, atol=1e-8)
