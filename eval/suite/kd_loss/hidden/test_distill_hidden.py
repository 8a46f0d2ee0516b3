import math

import torch

from distill import distillation_loss


def _softmax(z, t):
    e = [math.exp(v / t) for v in z]
    s = sum(e)
    return [v / s for v in e]


def test_known_value():
    s, te, y, t, a = [1.0, 2.0, 0.5], [3.0, 0.0, 1.0], 1, 2.0, 0.7
    p, q = _softmax(te, t), _softmax(s, t)
    kl = sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))
    ce = -math.log(_softmax(s, 1.0)[y])
    want = a * t * t * kl + (1 - a) * ce
    got = distillation_loss(torch.tensor([s]), torch.tensor([te]), torch.tensor([y]), t, a)
    assert got.dim() == 0
    assert math.isclose(got.item(), want, rel_tol=1e-5)


def test_identical_logits_give_zero_soft_loss():
    z = torch.randn(4, 5)
    got = distillation_loss(z, z.clone(), torch.tensor([0, 1, 2, 3]), 4.0, 1.0)
    assert abs(got.item()) < 1e-6


def test_alpha_zero_is_cross_entropy():
    torch.manual_seed(0)
    s, te = torch.randn(6, 4), torch.randn(6, 4)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    got = distillation_loss(s, te, y, 3.0, 0.0)
    torch.testing.assert_close(got, torch.nn.functional.cross_entropy(s, y), rtol=1e-5, atol=1e-6)


def test_soft_gradient_is_t_times_probability_gap_over_batch():
    torch.manual_seed(1)
    n, t = 3, 5.0
    s = torch.randn(n, 4, requires_grad=True)
    te = torch.randn(n, 4, requires_grad=True)
    distillation_loss(s, te, torch.tensor([0, 1, 2]), t, 1.0).backward()
    want = t * (torch.softmax(s.detach() / t, -1) - torch.softmax(te.detach() / t, -1)) / n
    torch.testing.assert_close(s.grad, want, rtol=1e-4, atol=1e-6)
    assert te.grad is None or torch.count_nonzero(te.grad) == 0


def test_batch_mean_not_sum():
    torch.manual_seed(2)
    s, te = torch.randn(2, 3), torch.randn(2, 3)
    y = torch.tensor([1, 2])
    one = distillation_loss(s[:1], te[:1], y[:1], 2.0, 0.5)
    two = distillation_loss(torch.cat([s[:1], s[:1]]), torch.cat([te[:1], te[:1]]), torch.cat([y[:1], y[:1]]), 2.0, 0.5)
    torch.testing.assert_close(one, two, rtol=1e-5, atol=1e-6)
