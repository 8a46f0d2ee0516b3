import math

import numpy as np
from numpy.testing import assert_allclose

from attention import scaled_dot_product_attention


def test_known_values_use_sqrt_dk_scaling():
    q = np.array([[1.0, 0.0]])
    k = np.array([[1.0, 0.0], [0.0, 1.0]])
    v = np.array([[1.0, 2.0], [3.0, 4.0]])
    out, w = scaled_dot_product_attention(q, k, v)
    a = math.exp(1 / math.sqrt(2))
    w0 = a / (a + 1.0)
    assert_allclose(w, [[w0, 1 - w0]], rtol=1e-5, atol=1e-8)
    assert_allclose(out, [[w0 * 1 + (1 - w0) * 3, w0 * 2 + (1 - w0) * 4]], rtol=1e-5, atol=1e-8)


def test_weights_are_a_distribution_over_keys():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(2, 3, 7, 4)), rng.normal(size=(2, 3, 7, 6))
    out, w = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 5, 6)
    assert w.shape == (2, 3, 5, 7)
    assert np.all(w >= 0)
    assert_allclose(w.sum(axis=-1), np.ones((2, 3, 5)), rtol=1e-5, atol=1e-8)
    assert_allclose(out, w @ v, rtol=1e-5, atol=1e-8)


def test_mask_gives_zero_weight_and_causal_first_row_copies_first_value():
    rng = np.random.default_rng(1)
    n = 4
    q, k, v = rng.normal(size=(n, 3)), rng.normal(size=(n, 3)), rng.normal(size=(n, 2))
    causal = np.tril(np.ones((n, n), dtype=bool))
    out, w = scaled_dot_product_attention(q, k, v, mask=causal)
    assert np.all(w[~causal] == 0)
    assert_allclose(w.sum(axis=-1), np.ones(n), rtol=1e-5, atol=1e-8)
    assert_allclose(out[0], v[0], rtol=1e-5, atol=1e-8)


def test_large_scores_stay_finite():
    q = np.array([[1000.0, 1000.0]])
    k = np.array([[1000.0, 1000.0], [-1000.0, 0.0]])
    v = np.array([[1.0], [2.0]])
    out, w = scaled_dot_product_attention(q, k, v)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(w))
    assert_allclose(out, [[1.0]], rtol=1e-5, atol=1e-8)


def test_mask_broadcasts_over_batch():
    rng = np.random.default_rng(2)
    q, k, v = rng.normal(size=(3, 2, 4)), rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 5, 2))
    mask = np.array([[True, True, False, False, True]])
    out, w = scaled_dot_product_attention(q, k, v, mask=mask)
    assert np.all(w[..., 2:4] == 0)
    ref, _ = scaled_dot_product_attention(q, k[:, [0, 1, 4]], v[:, [0, 1, 4]])
    assert_allclose(out, ref, rtol=1e-5, atol=1e-8)
