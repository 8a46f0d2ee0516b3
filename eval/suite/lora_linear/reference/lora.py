"""A LoRA-adapted linear layer (Hu et al., 2021, Section 4.1)."""

import math

import torch
from torch import nn


class LoRALinear(nn.Module):
    """A frozen linear layer plus a trainable low-rank update (alpha / r) B A."""

    def __init__(self, in_features, out_features, r, alpha, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features), requires_grad=False)
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.bias = nn.Parameter(torch.zeros(out_features), requires_grad=False) if bias else None
        self.lora_A = nn.Parameter(torch.empty(r, in_features))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.lora_B = nn.Parameter(torch.zeros(out_features, r))
        self.scaling = alpha / r
        self.merged = False

    def forward(self, x):
        out = nn.functional.linear(x, self.weight, self.bias)
        if self.merged:
            return out
        return out + self.scaling * (x @ self.lora_A.T @ self.lora_B.T)

    @torch.no_grad()
    def merge(self):
        """Fold the update into the weight; later calls use the weight alone."""
        if not self.merged:
            self.weight += self.scaling * (self.lora_B @ self.lora_A)
            self.merged = True
