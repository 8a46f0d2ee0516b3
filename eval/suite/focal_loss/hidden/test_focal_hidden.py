import math

import numpy as np

from focal import focal_loss


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_known_values():
    x, y = [2.0, -1.0, 0.5], [1, 0, 0]
    want = 0.0
    for xi, yi in zip(x, y):
        p = _sigmoid(xi)
        pt = p if yi == 1 else 1 - p
        at = 0.25 if yi == 1 else 0.75
        want += -at * (1 - pt) ** 2 * math.log(pt)
    got = focal_loss(np.array(x), np.array(y))
    assert math.isclose(got, want / 3, rel_tol=1e-6)


def test_gamma_zero_is_weighted_cross_entropy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    y = (rng.random(50) < 0.5).astype(int)
    p = 1 / (1 + np.exp(-x))
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert math.isclose(focal_loss(x, y, alpha=0.5, gamma=0.0), float(0.5 * bce.mean()), rel_tol=1e-6)


def test_easy_examples_are_down_weighted():
    easy = focal_loss(np.array([4.0]), np.array([1]), alpha=0.5, gamma=2.0)
    easy_ce = focal_loss(np.array([4.0]), np.array([1]), alpha=0.5, gamma=0.0)
    hard = focal_loss(np.array([-1.0]), np.array([1]), alpha=0.5, gamma=2.0)
    hard_ce = focal_loss(np.array([-1.0]), np.array([1]), alpha=0.5, gamma=0.0)
    assert easy / easy_ce < 0.001
    assert hard / hard_ce > 0.5


def test_large_logits_are_stable():
    got = focal_loss(np.array([-100.0]), np.array([1]))
    assert math.isfinite(got)
    assert math.isclose(got, 0.25 * 100.0, rel_tol=1e-6)
    assert focal_loss(np.array([100.0, -100.0]), np.array([1, 0])) < 1e-30


def test_two_dimensional_input_is_averaged_over_all_elements():
    x = np.array([[0.0, 0.0], [0.0, 0.0]])
    y = np.array([[1, 0], [0, 1]])
    want = (2 * 0.25 + 2 * 0.75) * 0.25 * math.log(2) / 4
    assert math.isclose(focal_loss(x, y), want, rel_tol=1e-6)
