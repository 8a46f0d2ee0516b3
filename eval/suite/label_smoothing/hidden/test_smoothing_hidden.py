import math

import numpy as np

from smoothing import label_smoothing_cross_entropy


def _log_softmax(z):
    m = max(z)
    lse = m + math.log(sum(math.exp(v - m) for v in z))
    return [v - lse for v in z]


def test_zero_epsilon_is_plain_cross_entropy():
    z = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]
    y = [0, 1]
    want = -(_log_softmax(z[0])[0] + _log_softmax(z[1])[1]) / 2
    got = label_smoothing_cross_entropy(np.array(z), np.array(y), 0.0)
    assert math.isclose(got, want, rel_tol=1e-6)


def test_known_value_with_smoothing():
    z, y, eps = [1.0, 3.0, 0.0, -2.0], 1, 0.2
    lp = _log_softmax(z)
    q = [eps / 4] * 4
    q[y] += 1 - eps
    want = -sum(qi * li for qi, li in zip(q, lp))
    got = label_smoothing_cross_entropy(np.array([z]), np.array([y]), eps)
    assert math.isclose(got, want, rel_tol=1e-6)


def test_uniform_logits_give_log_k_for_any_epsilon():
    for eps in (0.0, 0.1, 0.9):
        got = label_smoothing_cross_entropy(np.zeros((3, 5)), np.array([0, 2, 4]), eps)
        assert math.isclose(got, math.log(5), rel_tol=1e-6)


def test_large_logits_are_stable():
    z = np.array([[1000.0, 0.0, -1000.0]])
    got = label_smoothing_cross_entropy(z, np.array([0]), 0.3)
    want = -(0.1 * 0.0 + 0.1 * -1000.0 + 0.1 * -2000.0)
    assert math.isfinite(got)
    assert math.isclose(got, want, rel_tol=1e-6)


def test_smoothing_penalises_overconfidence():
    confident = np.array([[20.0, 0.0, 0.0]])
    moderate = np.array([[3.0, 0.0, 0.0]])
    y = np.array([0])
    assert label_smoothing_cross_entropy(confident, y, 0.0) < label_smoothing_cross_entropy(moderate, y, 0.0)
    assert label_smoothing_cross_entropy(confident, y, 0.1) > label_smoothing_cross_entropy(moderate, y, 0.1)
