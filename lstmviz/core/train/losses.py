"""The linear readout y = V h + d on chosen steps, its loss, and the loss's gradients.

Regression tasks use the mean squared error, averaged over every target entry (what
torch.nn.functional.mse_loss does); classification and next-character tasks use softmax
cross-entropy averaged over the target positions (torch.nn.functional.cross_entropy). The
gradient d loss / d h_t that comes back is what lstmviz.core.train.backprop injects into the
recurrence; tests/fixtures/train/readout_*.npz hold torch's own numbers for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REGRESSION = "regression"
CLASSIFICATION = "classification"


@dataclass
class ReadoutResult:
    loss: float
    accuracy: float
    dV: np.ndarray  # (k, n)
    dd: np.ndarray  # (k,)
    dloss_dh: np.ndarray  # (T, B, n), zero on the steps without a target


def readout(h: np.ndarray, V: np.ndarray, d: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """y on the target steps: h (T, B, n) -> (P, B, k)."""
    return h[steps] @ V.T + d


def softmax(y: np.ndarray) -> np.ndarray:
    shifted = y - y.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def loss_and_gradients(kind: str, h: np.ndarray, V: np.ndarray, d: np.ndarray, steps: np.ndarray,
                       target: np.ndarray, tolerance: float = 0.1) -> ReadoutResult:
    """h (T, B, n) time-major; steps (P,) the steps with a target; target (P, B, k) floats for
    regression or (P, B) class indices for classification.

    accuracy: the share of targets within `tolerance` of the answer (regression, every output
    entry) or whose class has the largest output (classification).
    """
    y = readout(h, V, d, steps)
    if kind == REGRESSION:
        err = y - target
        loss = float(np.mean(err * err))
        dy = err * (2.0 / err.size)
        accuracy = float(np.mean(np.abs(err) < tolerance))
    else:
        p = softmax(y)
        P, B = target.shape
        rows = np.arange(P)[:, None], np.arange(B)[None, :], target
        picked = p[rows]
        loss = float(-np.mean(np.log(np.maximum(picked, np.finfo(p.dtype).tiny))))
        dy = p
        dy[rows] -= 1.0
        dy *= 1.0 / (P * B)
        accuracy = float(np.mean(y.argmax(axis=-1) == target))
    k = V.shape[0]
    hs = h[steps]
    dV = dy.reshape(-1, k).T @ hs.reshape(-1, hs.shape[-1])
    dd = dy.reshape(-1, k).sum(axis=0)
    dloss_dh = np.zeros_like(h)
    dloss_dh[steps] = dy @ V
    return ReadoutResult(loss=loss, accuracy=accuracy, dV=dV, dd=dd, dloss_dh=dloss_dh)
