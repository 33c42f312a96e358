"""Bounded fitting for the fusion model: logistic and listwise (conditional logit) regression with
some weights held non-negative, both solved by projected Newton steps."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _projected_newton(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]],
    lower: np.ndarray,
    upper: np.ndarray,
    iterations: int = 50,
) -> np.ndarray:
    """Minimise a smooth function under box bounds by Newton steps on the free variables (those not
    held at a bound by their gradient) with a backtracking line search. ``objective`` returns
    (value, gradient, positive-definite curvature matrix)."""
    w = np.clip(np.zeros(len(lower)), lower, upper)
    value, grad, hess = objective(w)
    for _ in range(iterations):
        at_low = (w <= lower) & (grad > 0)
        at_high = (w >= upper) & (grad < 0)
        free = ~(at_low | at_high | (lower == upper))
        if not free.any():
            break
        step = np.zeros_like(w)
        step[free] = np.linalg.solve(hess[np.ix_(free, free)], grad[free])
        t = 1.0
        while True:
            trial = np.clip(w - t * step, lower, upper)
            new_value, new_grad, new_hess = objective(trial)
            if new_value <= value - 1e-4 * float(grad @ (w - trial)) or t < 1e-6:
                break
            t *= 0.5
        moved = float(np.abs(trial - w).max())
        w, value, grad, hess = trial, new_value, new_grad, new_hess
        if moved < 1e-6:
            break
    return w


def _bounds(nonneg: np.ndarray, fix_bias: bool) -> tuple[np.ndarray, np.ndarray]:
    lower = np.where(nonneg, 0.0, -np.inf)
    upper = np.full(len(nonneg), np.inf)
    if fix_bias:
        lower[0] = upper[0] = 0.0
    return lower, upper


def fit_logistic(
    x: np.ndarray, y: np.ndarray, nonneg: np.ndarray, l2: float = 1.0, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """L2-regularised, weighted logistic regression with some weights held >= 0 (projected Newton)."""
    sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    reg = np.full(x.shape[1], l2)
    reg[0] = 1e-6  # no penalty on the bias

    def objective(w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        z = x @ w
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        value = float(np.sum(sw * (np.logaddexp(0.0, z) - y * z)) + 0.5 * np.sum(reg * w * w))
        hess = (x * (sw * p * (1 - p))[:, None]).T @ x + np.diag(reg)
        return value, x.T @ (sw * (p - y)) + reg * w, hess

    return _projected_newton(objective, *_bounds(nonneg, fix_bias=False))


def fit_listwise(
    x: np.ndarray,
    y: np.ndarray,
    starts: np.ndarray,
    nonneg: np.ndarray,
    l2: float = 1.0,
    group_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Conditional logit over each photo's pool: maximise P(the chosen place is a right one).

    ``starts`` are the first rows of each pool (rows of one pool are contiguous). Pools that are all
    right or all wrong teach nothing about choosing and are dropped. The bias is meaningless here (0).
    """
    ends = np.append(starts[1:], len(x))
    gw_all = np.ones(len(starts)) if group_weight is None else np.asarray(group_weight, dtype=float)
    chosen = [g for g, (a, b) in enumerate(zip(starts, ends, strict=True)) if 0 < y[a:b].sum() < b - a]
    keep = [(starts[g], ends[g]) for g in chosen]
    if not keep:
        return np.zeros(x.shape[1])
    gw = gw_all[chosen]
    idx = np.concatenate([np.arange(a, b) for a, b in keep])
    xs, ys = x[idx], y[idx]
    lengths = np.array([b - a for a, b in keep])
    group = np.repeat(np.arange(len(keep)), lengths)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])

    def objective(w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        z = xs @ w
        zmax = np.maximum.reduceat(z, first)
        e = np.exp(z - zmax[group])
        total = np.add.reduceat(e, first)
        positive = np.add.reduceat(e * ys, first)
        value = float(np.sum(gw * (np.log(total) - np.log(positive)))) + 0.5 * l2 * float(w @ w)
        p_all = e / total[group]
        coef = gw[group] * (p_all - ys * e / positive[group])
        # Curvature of the full softmax term (positive semi-definite): sum of within-pool covariances.
        mean = np.add.reduceat(xs * p_all[:, None], first)
        centred = xs - mean[group]
        hess = (centred * (gw[group] * p_all)[:, None]).T @ centred + l2 * np.eye(len(w))
        return value, xs.T @ coef + l2 * w, hess

    return _projected_newton(objective, *_bounds(nonneg, fix_bias=True))
