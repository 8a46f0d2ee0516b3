"""Cosine decay with linear warm-up (Loshchilov and Hutter, 2017, Section 3)."""

import math


def cosine_with_warmup(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    """Learning rate at a 0-based step: linear warm-up, then half a cosine."""
    if total_steps <= warmup_steps:
        raise ValueError(f"total_steps ({total_steps}) must exceed warmup_steps ({warmup_steps})")
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    if step >= total_steps:
        return float(min_lr)
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + 0.5 * (base_lr - min_lr) * (1 + math.cos(math.pi * progress))
