import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from positional import positional_encoding


def test_shape_and_position_zero():
    pe = positional_encoding(10, 8)
    assert pe.shape == (10, 8)
    assert_allclose(pe[0], [0, 1, 0, 1, 0, 1, 0, 1], rtol=1e-5, atol=1e-8)


def test_known_values():
    d = 6
    pe = positional_encoding(5, d)
    for pos in range(5):
        for i in range(d // 2):
            angle = pos / 10000 ** (2 * i / d)
            assert math.isclose(pe[pos, 2 * i], math.sin(angle), rel_tol=1e-5, abs_tol=1e-8)
            assert math.isclose(pe[pos, 2 * i + 1], math.cos(angle), rel_tol=1e-5, abs_tol=1e-8)


def test_pairs_lie_on_the_unit_circle():
    pe = positional_encoding(50, 16)
    assert_allclose(pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2, np.ones((50, 8)), rtol=1e-5, atol=1e-8)


def test_offset_is_a_rotation():
    d, k = 8, 3
    pe = positional_encoding(20, d)
    for i in range(d // 2):
        w = 1 / 10000 ** (2 * i / d)
        c, s = math.cos(k * w), math.sin(k * w)
        sin_p, cos_p = pe[:-k, 2 * i], pe[:-k, 2 * i + 1]
        assert_allclose(pe[k:, 2 * i], sin_p * c + cos_p * s, rtol=1e-5, atol=1e-8)
        assert_allclose(pe[k:, 2 * i + 1], cos_p * c - sin_p * s, rtol=1e-5, atol=1e-8)


def test_odd_dimension_is_refused():
    with pytest.raises(ValueError):
        positional_encoding(4, 7)
