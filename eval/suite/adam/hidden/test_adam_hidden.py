import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from adam import adam_update


def test_first_step_moves_by_lr_against_the_gradient_sign():
    p = np.array([1.0, -2.0, 0.5])
    g = np.array([0.3, -40.0, 1e-3])
    new, m, v = adam_update(p, g, np.zeros(3), np.zeros(3), 1, lr=0.01)
    assert_allclose(new, p - 0.01 * np.sign(g), rtol=1e-4)
    assert_allclose(m, 0.1 * g, rtol=1e-5, atol=1e-12)
    assert_allclose(v, 0.001 * g**2, rtol=1e-5, atol=1e-12)


def test_two_steps_known_values():
    b1, b2, lr, eps = 0.9, 0.999, 0.1, 1e-8
    p, m, v = np.array([0.0]), np.zeros(1), np.zeros(1)
    p, m, v = adam_update(p, np.array([1.0]), m, v, 1, lr=lr)
    p, m, v = adam_update(p, np.array([3.0]), m, v, 2, lr=lr)
    m2 = b1 * (1 - b1) * 1.0 + (1 - b1) * 3.0
    v2 = b2 * (1 - b2) * 1.0 + (1 - b2) * 9.0
    step2 = lr * (m2 / (1 - b1**2)) / (math.sqrt(v2 / (1 - b2**2)) + eps)
    assert_allclose(m, [m2], rtol=1e-6)
    assert_allclose(v, [v2], rtol=1e-6)
    assert_allclose(p, [-lr - step2], rtol=1e-5)


def test_arguments_are_not_modified():
    p, g, m, v = np.ones(2), np.ones(2), np.zeros(2), np.zeros(2)
    adam_update(p, g, m, v, 1)
    assert_allclose(p, np.ones(2))
    assert_allclose(m, np.zeros(2))
    assert_allclose(v, np.zeros(2))


def test_minimises_a_quadratic():
    target = np.array([3.0, -1.0])
    p, m, v = np.zeros(2), np.zeros(2), np.zeros(2)
    for t in range(1, 3001):
        p, m, v = adam_update(p, 2 * (p - target), m, v, t, lr=0.05)
    assert_allclose(p, target, atol=1e-2)


def test_step_zero_is_refused():
    with pytest.raises(ValueError):
        adam_update(np.ones(1), np.ones(1), np.zeros(1), np.zeros(1), 0)
