import numpy as np
from numpy.testing import assert_allclose

from batchnorm import BatchNorm1d


def test_training_output_is_normalised_per_feature():
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 3.0, size=(64, 4))
    bn = BatchNorm1d(4, eps=0.0)
    y = bn.forward(x, training=True)
    assert y.shape == (64, 4)
    assert_allclose(y.mean(axis=0), np.zeros(4), atol=1e-8)
    assert_allclose(y.var(axis=0), np.ones(4), rtol=1e-5)


def test_running_statistics_after_one_step():
    x = np.array([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]])
    bn = BatchNorm1d(2, momentum=0.1)
    bn.forward(x, training=True)
    mean = np.array([3.0, 30.0])
    unbiased = np.array([4.0, 700.0])
    assert_allclose(bn.running_mean, 0.1 * mean, rtol=1e-5, atol=1e-8)
    assert_allclose(bn.running_var, 0.9 * 1.0 + 0.1 * unbiased, rtol=1e-5, atol=1e-8)


def test_inference_uses_running_statistics_and_leaves_them():
    bn = BatchNorm1d(2, eps=1e-5)
    bn.running_mean = np.array([1.0, -2.0])
    bn.running_var = np.array([4.0, 0.25])
    bn.gamma = np.array([2.0, 1.0])
    bn.beta = np.array([0.5, 0.0])
    x = np.array([[3.0, -1.0]])
    y = bn.forward(x, training=False)
    want = [2.0 * 2.0 / np.sqrt(4.0 + 1e-5) + 0.5, 1.0 / np.sqrt(0.25 + 1e-5)]
    assert_allclose(y, [want], rtol=1e-5, atol=1e-8)
    assert_allclose(bn.running_mean, [1.0, -2.0])
    assert_allclose(bn.running_var, [4.0, 0.25])


def test_training_uses_biased_batch_variance_with_gamma_beta():
    x = np.array([[0.0], [2.0]])
    bn = BatchNorm1d(1, eps=1e-5)
    bn.gamma = np.array([3.0])
    bn.beta = np.array([1.0])
    y = bn.forward(x, training=True)
    s = np.sqrt(1.0 + 1e-5)
    assert_allclose(y, [[1.0 - 3.0 / s], [1.0 + 3.0 / s]], rtol=1e-5, atol=1e-8)


def test_running_mean_converges_to_population_mean():
    rng = np.random.default_rng(3)
    bn = BatchNorm1d(3, momentum=0.1)
    for _ in range(300):
        bn.forward(rng.normal([1.0, -4.0, 10.0], [1.0, 2.0, 0.5], size=(32, 3)), training=True)
    assert_allclose(bn.running_mean, [1.0, -4.0, 10.0], atol=0.3)
    assert_allclose(bn.running_var, [1.0, 4.0, 0.25], rtol=0.3)
