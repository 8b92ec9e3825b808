"""Plain SGD and Adam over a dict of arrays, and gradient-norm clipping.

The formulas are torch.optim's (Adam: Kingma & Ba 2015 with bias correction, eps added after
the square root; SGD: theta -= lr * grad), so a run here and a torch run with the same start
follow the same path. Updates are in place on the parameter arrays.
"""

from __future__ import annotations

import math

import numpy as np

OPTIMIZERS = ("adam", "sgd")


def clip_by_global_norm(grads: dict[str, np.ndarray], max_norm: float | None) -> float:
    """Scale every gradient so their joint Euclidean norm is at most max_norm (as
    torch.nn.utils.clip_grad_norm_). Returns the norm before clipping."""
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if max_norm is not None and total > max_norm:
        scale = max_norm / (total + 1e-6)
        for g in grads.values():
            g *= scale
    return total


class SGD:
    def __init__(self, params: dict[str, np.ndarray], lr: float):
        self.params, self.lr = params, lr

    def step(self, grads: dict[str, np.ndarray]) -> None:
        for key, p in self.params.items():
            p -= self.lr * grads[key]


class Adam:
    def __init__(self, params: dict[str, np.ndarray], lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.eps = params, lr, eps
        self.beta1, self.beta2 = betas
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self.t = 0
        self._tmp = {k: np.empty_like(p) for k, p in params.items()}

    def step(self, grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        step_size = self.lr / (1.0 - b1**self.t)
        root_correction = math.sqrt(1.0 - b2**self.t)
        for key, p in self.params.items():
            g, m, v, tmp = grads[key], self.m[key], self.v[key], self._tmp[key]
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - b2
            v += tmp
            # torch: denom = sqrt(v) / sqrt(1 - b2^t) + eps;  p -= lr / (1 - b1^t) * m / denom
            np.sqrt(v, out=tmp)
            tmp /= root_correction
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            p -= tmp


def make_optimizer(name: str, params: dict[str, np.ndarray], lr: float):
    if name == "adam":
        return Adam(params, lr)
    if name == "sgd":
        return SGD(params, lr)
    raise ValueError(f"optimizer {name!r} is not one of {', '.join(OPTIMIZERS)}")
