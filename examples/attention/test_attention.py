"""Tests for attention.py, from the properties section 3.2 of the paper states."""

import numpy as np

from attention import scaled_dot_product_attention, softmax, splitHeads


def test_softmax_rows_sum_to_one():
    scores = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 1000.0]])
    probs = softmax(scores)
    np.testing.assert_allclose(probs.sum(axis=-1), [1.0, 1.0])
    np.testing.assert_allclose(probs[1], [1 / 3, 1 / 3, 1 / 3])


def test_attention_shapes():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(2, 5, 8))
    k = rng.normal(size=(2, 7, 8))
    v = rng.normal(size=(2, 7, 3))
    out, weights = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 5, 3)
    assert weights.shape == (2, 5, 7)


def test_attention_scales_by_sqrt_dk():
    q = np.array([[2.0, 0.0, 0.0, 0.0]])
    k = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    v = np.array([[1.0], [0.0]])
    _, weights = scaled_dot_product_attention(q, k, v)
    # Eq. (1): scores are q.k / sqrt(d_k) = [1, 0], so the weights are softmax([1, 0]).
    np.testing.assert_allclose(weights[0], np.exp([1, 0]) / np.exp([1, 0]).sum())


def test_mask_blocks_positions():
    q = np.ones((1, 2))
    k = np.ones((3, 2))
    v = np.arange(3.0).reshape(3, 1)
    mask = np.array([[True, False, True]])
    _, weights = scaled_dot_product_attention(q, k, v, mask)
    assert weights[0, 1] < 1e-6
    np.testing.assert_allclose(weights[0, [0, 2]], [0.5, 0.5])


def test_split_heads():
    x = np.arange(2 * 3 * 8.0).reshape(2, 3, 8)
    heads = splitHeads(x, num_heads=4)
    assert heads.shape == (2, 4, 3, 2)
    np.testing.assert_array_equal(heads[0, 1, 0], x[0, 0, 2:4])
