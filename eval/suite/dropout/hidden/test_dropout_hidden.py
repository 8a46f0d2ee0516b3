import numpy as np
import pytest
from numpy.testing import assert_allclose

from dropout import dropout


def test_inference_is_identity():
    x = np.arange(12.0).reshape(3, 4)
    assert_allclose(dropout(x, 0.5, False, np.random.default_rng(0)), x)


def test_kept_elements_are_scaled_and_the_rest_zero():
    x = np.random.default_rng(1).uniform(1.0, 2.0, size=(200, 50))
    y = dropout(x, 0.3, True, np.random.default_rng(2))
    kept = y != 0
    assert_allclose(y[kept], x[kept] / 0.7, rtol=1e-6)
    assert abs((~kept).mean() - 0.3) < 0.01


def test_mask_follows_the_generator():
    x = np.ones(1000)
    y = dropout(x, 0.25, True, np.random.default_rng(7))
    want = np.random.default_rng(7).random(1000) >= 0.25
    assert np.array_equal(y != 0, want)


def test_expectation_is_preserved():
    x = np.full(200000, 3.0)
    y = dropout(x, 0.6, True, np.random.default_rng(3))
    assert abs(y.mean() - 3.0) < 0.05


def test_zero_probability_keeps_everything_and_bad_p_is_refused():
    x = np.array([1.0, -2.0])
    assert_allclose(dropout(x, 0.0, True, np.random.default_rng(0)), x)
    for p in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError):
            dropout(x, p, True, np.random.default_rng(0))
