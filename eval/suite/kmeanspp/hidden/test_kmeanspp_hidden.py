import numpy as np
import pytest

from kmeanspp import kmeans_pp_init


def _blobs(rng):
    means = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    return np.concatenate([m + rng.normal(scale=0.5, size=(40, 2)) for m in means]), means


def test_centres_are_distinct_data_points():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 3))
    c = kmeans_pp_init(x, 5, np.random.default_rng(1))
    assert c.shape == (5, 3)
    for row in c:
        assert np.any(np.all(x == row, axis=1))
    assert len(np.unique(c, axis=0)) == 5


def test_one_centre_per_well_separated_cluster():
    # Uniform seeding misses a cluster in 7 of 9 draws; D^2 seeding
    # practically never does.
    for seed in range(20):
        x, means = _blobs(np.random.default_rng(seed))
        c = kmeans_pp_init(x, 3, np.random.default_rng(seed + 100))
        nearest = np.argmin(((c[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
        assert sorted(nearest.tolist()) == [0, 1, 2]


def test_duplicates_are_never_chosen_twice():
    x = np.array([[0.0], [0.0], [0.0], [0.0], [5.0]])
    for seed in range(10):
        c = kmeans_pp_init(x, 2, np.random.default_rng(seed))
        assert sorted(c[:, 0].tolist()) == [0.0, 5.0]


def test_second_centre_follows_squared_distance():
    x = np.array([[0.0], [1.0], [3.0]])
    counts = {1.0: 0, 3.0: 0}
    seen = 0
    for seed in range(1500):
        c = kmeans_pp_init(x, 2, np.random.default_rng(seed))
        if c[0, 0] == 0.0:
            counts[c[1, 0]] += 1
            seen += 1
    # D^2 = 1 and 9: the far point should win 90% of the time.
    assert seen > 350
    assert abs(counts[3.0] / seen - 0.9) < 0.06


def test_bad_k_is_refused():
    x = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]])
    for k in (0, 3):
        with pytest.raises(ValueError):
            kmeans_pp_init(x, k, np.random.default_rng(0))
