import pytest
import torch
from torch import nn

from mha import MultiHeadAttention


def _pair(d_model=8, heads=2, seed=0):
    torch.manual_seed(seed)
    ours = MultiHeadAttention(d_model, heads)
    ref = nn.MultiheadAttention(d_model, heads, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([ours.w_q.weight, ours.w_k.weight, ours.w_v.weight]))
        ref.in_proj_bias.copy_(torch.cat([ours.w_q.bias, ours.w_k.bias, ours.w_v.bias]))
        ref.out_proj.weight.copy_(ours.w_o.weight)
        ref.out_proj.bias.copy_(ours.w_o.bias)
    return ours, ref


def test_matches_torch_multihead_attention():
    ours, ref = _pair()
    q, k, v = torch.randn(3, 5, 8), torch.randn(3, 7, 8), torch.randn(3, 7, 8)
    want, _ = ref(q, k, v, need_weights=False)
    got = ours(q, k, v)
    assert got.shape == (3, 5, 8)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_self_attention_with_four_heads():
    ours, ref = _pair(d_model=16, heads=4, seed=1)
    x = torch.randn(2, 6, 16)
    want, _ = ref(x, x, x, need_weights=False)
    torch.testing.assert_close(ours(x, x, x), want, rtol=1e-5, atol=1e-5)


def test_mask_matches_torch_and_blocks_future_positions():
    ours, ref = _pair(seed=2)
    x = torch.randn(2, 4, 8)
    causal = torch.tril(torch.ones(4, 4, dtype=torch.bool))
    want, _ = ref(x, x, x, attn_mask=~causal, need_weights=False)
    torch.testing.assert_close(ours(x, x, x, mask=causal.unsqueeze(0)), want, rtol=1e-5, atol=1e-5)
    changed = x.clone()
    changed[:, 3] += 10.0
    torch.testing.assert_close(ours(changed, changed, changed, mask=causal)[:, :3], ours(x, x, x, mask=causal)[:, :3], rtol=1e-5, atol=1e-5)


def test_gradients_reach_every_projection():
    ours, _ = _pair(seed=3)
    x = torch.randn(2, 3, 8, requires_grad=True)
    ours(x, x, x).sum().backward()
    for lin in (ours.w_q, ours.w_k, ours.w_v, ours.w_o):
        assert lin.weight.grad is not None and torch.count_nonzero(lin.weight.grad) > 0
    assert x.grad is not None


def test_indivisible_model_dimension_is_refused():
    with pytest.raises(ValueError):
        MultiHeadAttention(10, 3)
