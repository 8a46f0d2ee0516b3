import math

import pytest

from schedule import cosine_with_warmup


def test_warmup_is_linear_from_zero():
    assert cosine_with_warmup(0, 0.1, 10, 110) == 0.0
    assert math.isclose(cosine_with_warmup(5, 0.1, 10, 110), 0.05, rel_tol=1e-9)
    assert math.isclose(cosine_with_warmup(10, 0.1, 10, 110), 0.1, rel_tol=1e-9)


def test_cosine_known_points():
    lr, lo = 1.0, 0.1
    assert math.isclose(cosine_with_warmup(60, lr, 10, 110, lo), (lr + lo) / 2, rel_tol=1e-9)
    want = lo + 0.5 * (lr - lo) * (1 + math.cos(math.pi * 25 / 100))
    assert math.isclose(cosine_with_warmup(35, lr, 10, 110, lo), want, rel_tol=1e-9)
    assert math.isclose(cosine_with_warmup(110, lr, 10, 110, lo), lo, rel_tol=1e-9)


def test_after_the_end_stays_at_minimum():
    for s in (111, 500):
        assert math.isclose(cosine_with_warmup(s, 1.0, 10, 110, 0.01), 0.01, rel_tol=1e-9)


def test_decay_is_monotone_and_bounded():
    rates = [cosine_with_warmup(s, 3e-4, 0, 1000, 1e-5) for s in range(0, 1001)]
    assert math.isclose(rates[0], 3e-4, rel_tol=1e-9)
    assert all(a >= b for a, b in zip(rates, rates[1:]))
    assert all(1e-5 - 1e-15 <= r <= 3e-4 + 1e-15 for r in rates)


def test_bad_lengths_are_refused():
    with pytest.raises(ValueError):
        cosine_with_warmup(0, 0.1, 10, 10)
