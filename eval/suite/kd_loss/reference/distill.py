"""Knowledge-distillation loss (Hinton et al., 2015, Section 2)."""

import torch.nn.functional as F


def distillation_loss(student_logits, teacher_logits, labels, temperature, alpha):
    """alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE(student, labels)."""
    t = temperature
    soft_teacher = F.softmax(teacher_logits.detach() / t, dim=-1)
    log_student = F.log_softmax(student_logits / t, dim=-1)
    soft = F.kl_div(log_student, soft_teacher, reduction="batchmean") * t * t
    hard = F.cross_entropy(student_logits, labels)
    return alpha * soft + (1 - alpha) * hard
