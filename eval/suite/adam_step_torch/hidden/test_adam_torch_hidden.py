import copy

import torch
from torch import nn

from adam_torch import Adam, train_step


def _problem(seed=0):
    torch.manual_seed(seed)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.5], [-2.0], [0.5]]) + 0.3
    return nn.Linear(3, 1), x, y


def test_is_a_torch_optimizer_and_not_torch_adam():
    model, _, _ = _problem()
    opt = Adam(model.parameters())
    assert isinstance(opt, torch.optim.Optimizer)
    assert not isinstance(opt, torch.optim.Adam)


def test_matches_torch_adam_over_several_steps():
    model, x, y = _problem(1)
    twin = copy.deepcopy(model)
    ours = Adam(model.parameters(), lr=0.05, betas=(0.8, 0.99), eps=1e-6)
    ref = torch.optim.Adam(twin.parameters(), lr=0.05, betas=(0.8, 0.99), eps=1e-6)
    for _ in range(10):
        for m, opt in ((model, ours), (twin, ref)):
            opt.zero_grad()
            nn.functional.mse_loss(m(x), y).backward()
            opt.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_first_step_moves_by_lr():
    p = nn.Parameter(torch.tensor([1.0, -1.0, 2.0]))
    opt = Adam([p], lr=0.1)
    p.grad = torch.tensor([5.0, -0.01, 300.0])
    opt.step()
    torch.testing.assert_close(p.detach(), torch.tensor([0.9, -0.9, 1.9]), rtol=1e-4, atol=1e-5)


def test_train_step_returns_the_loss_before_the_update_and_clears_grads():
    model, x, y = _problem(2)
    want = nn.functional.mse_loss(model(x), y).item()
    got = train_step(model, Adam(model.parameters(), lr=0.01), nn.functional.mse_loss, x, y)
    assert isinstance(got, float)
    assert abs(got - want) < 1e-6
    assert all(p.grad is None or torch.count_nonzero(p.grad) == 0 for p in model.parameters())


def test_training_fits_a_linear_model():
    model, x, y = _problem(3)
    opt = Adam(model.parameters(), lr=0.05)
    losses = [train_step(model, opt, nn.functional.mse_loss, x, y) for _ in range(400)]
    assert losses[-1] < 1e-3 < losses[0]
