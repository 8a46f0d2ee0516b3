"""Batch normalisation (Ioffe and Szegedy, 2015, Section 3.1)."""

import numpy as np


class BatchNorm1d:
    """Per-feature batch normalisation with running statistics for inference."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        self.eps = eps
        self.momentum = momentum
        self.gamma = np.ones(num_features)
        self.beta = np.zeros(num_features)
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)

    def forward(self, x, training=True):
        """Normalise x with batch statistics (training) or running ones."""
        if training:
            m = x.shape[0]
            mean = x.mean(axis=0)
            var = x.var(axis=0)
            rho = self.momentum
            self.running_mean = (1 - rho) * self.running_mean + rho * mean
            self.running_var = (1 - rho) * self.running_var + rho * var * m / (m - 1)
        else:
            mean, var = self.running_mean, self.running_var
        return self.gamma * (x - mean) / np.sqrt(var + self.eps) + self.beta
