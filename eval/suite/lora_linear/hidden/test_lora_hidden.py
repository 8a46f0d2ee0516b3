import torch
from torch import nn

from lora import LoRALinear


def _layer(seed=0):
    torch.manual_seed(seed)
    return LoRALinear(6, 4, r=2, alpha=8)


def test_shapes_scaling_and_zero_update_at_start():
    layer = _layer()
    assert isinstance(layer, nn.Module)
    assert layer.weight.shape == (4, 6) and layer.bias.shape == (4,)
    assert layer.lora_A.shape == (2, 6) and layer.lora_B.shape == (4, 2)
    assert layer.scaling == 4.0
    assert torch.count_nonzero(layer.lora_B) == 0
    x = torch.randn(3, 5, 6)
    want = x @ layer.weight.T + layer.bias
    torch.testing.assert_close(layer(x), want, rtol=1e-5, atol=1e-6)


def test_only_the_low_rank_factors_train():
    layer = _layer()
    trainable = {n for n, p in layer.named_parameters() if p.requires_grad}
    assert trainable == {"lora_A", "lora_B"}
    layer(torch.randn(8, 6)).pow(2).sum().backward()
    assert layer.weight.grad is None
    assert layer.lora_B.grad is not None and torch.count_nonzero(layer.lora_B.grad) > 0


def test_forward_adds_the_scaled_update():
    layer = _layer(1)
    with torch.no_grad():
        layer.lora_B.copy_(torch.randn(4, 2))
    x = torch.randn(7, 6)
    delta = layer.lora_B @ layer.lora_A
    want = x @ (layer.weight + 4.0 * delta).T + layer.bias
    torch.testing.assert_close(layer(x), want, rtol=1e-5, atol=1e-5)


def test_merge_keeps_outputs_and_is_idempotent():
    layer = _layer(2)
    with torch.no_grad():
        layer.lora_B.copy_(torch.randn(4, 2))
    x = torch.randn(5, 6)
    before = layer(x).detach().clone()
    w0 = layer.weight.detach().clone()
    layer.merge()
    torch.testing.assert_close(layer.weight.detach(), w0 + 4.0 * (layer.lora_B @ layer.lora_A).detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(layer(x).detach(), before, rtol=1e-5, atol=1e-5)
    layer.merge()
    torch.testing.assert_close(layer(x).detach(), before, rtol=1e-5, atol=1e-5)


def test_without_bias():
    torch.manual_seed(3)
    layer = LoRALinear(3, 2, r=1, alpha=1, bias=False)
    assert layer.bias is None
    x = torch.randn(4, 3)
    torch.testing.assert_close(layer(x), x @ layer.weight.T, rtol=1e-5, atol=1e-6)
