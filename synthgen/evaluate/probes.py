"""Classifiers fitted on frozen features: a linear probe and a weighted kNN probe.

Both take float feature tensors (N, D) and int64 labels (N,) and return plain JSON-able dicts.
Top-5 accuracy is reported as 1.0 when there are 5 classes or fewer (the true class is then always
among the top 5), so that the key is always there and means the same thing.

Linear probe: multinomial logistic regression on standardised features, fitted full-batch with
L-BFGS (strong-Wolfe line search). On CPU this beats minibatch AdamW for N = 60000, D = 512..2048:
the problem is smooth and convex, one full-batch step is a single large matmul (fast BLAS, no
data-loader or per-step overhead), it needs no learning rate or schedule to tune, and the result
is deterministic. The weight decay is chosen on a stratified held-out part of train, fitting the
grid from the strongest decay to the weakest, each fit warm-started from the previous one (the
regularisation path: neighbouring solutions are close, so later fits take few iterations); then
the model is refitted on all of train with the chosen decay, warm-started from its held-out fit.
Cost: 7 fits by default, each at most `max_iter` iterations of about one function evaluation (two
passes over the features); memory about twice the train features (standardised copy, and the
fit/held-out parts) plus N x C logits. Adjacent tiny decays often stop within a few iterations of
the previous solution: on that scale they are the same model, and ties go to the larger decay.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from synthgen.evaluate.datasets import stratified_split
from synthgen.progress import ProgressCallback, ProgressReporter

# The penalty is weight_decay/2 * ||W||^2 added to the *mean* cross-entropy, on standardised
# features. 1e-6 is as good as no decay for any realistic N but keeps the optimum unique (with 0
# and separable data the weights grow until max_iter stops them); small or noisy train sets want
# 1e-2..1e-1. Six log-spaced values, strongest first when fitted (see linear_probe).
DEFAULT_WEIGHT_DECAYS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
DEFAULT_KS = (20, 200)
# L-BFGS stops at max |gradient| <= TOLERANCE_GRAD or a change of loss or step below TOLERANCE_CHANGE.
TOLERANCE_GRAD = 1e-5
TOLERANCE_CHANGE = 1e-7


def linear_probe(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    val_x: torch.Tensor,
    val_y: torch.Tensor,
    *,
    num_classes: int,
    weight_decays: Sequence[float] = DEFAULT_WEIGHT_DECAYS,
    held_out: float = 0.2,
    max_iter: int = 100,
    seed: int = 0,
    device: str | torch.device = "cpu",
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Fit softmax regression on frozen features; report val top-1/top-5 and the decay chosen.

    The features are standardised with the statistics of all of train. Each weight decay in
    `weight_decays` is fitted (at most `max_iter` L-BFGS iterations) on train minus a stratified,
    `seed`-ed `held_out` fraction and scored on that fraction; the best (ties: the larger decay, the
    simpler model) is refitted on all of train. With a single decay there is no held-out step.
    `seed` draws only that held-out part: the fits themselves are deterministic. `on_progress`
    gets a "linear" job counting the fits (one per decay, then the final one).

    Returns top1, top5 (on val), weight_decay (chosen), held_out (per decay: held-out top1 and
    L-BFGS iterations), iterations (of the final fit), sizes, and fit_seconds (all of it).
    """
    start = time.perf_counter()
    device = torch.device(device)
    train_x, train_y = _checked(train_x, train_y, num_classes, "train", device)
    val_x, val_y = _checked(val_x, val_y, num_classes, "val", device)
    if train_x.shape[1] != val_x.shape[1]:
        raise ValueError(f"train features have {train_x.shape[1]} dimensions, val features {val_x.shape[1]}")
    decays = sorted({float(d) for d in weight_decays}, reverse=True)  # strongest first: the path
    if not decays or decays[-1] < 0:
        raise ValueError(f"weight_decays must be a non-empty list of values >= 0, got {list(weight_decays)}")
    if len(decays) > 1 and not 0.0 < held_out < 1.0:
        raise ValueError(f"held_out must lie strictly between 0 and 1, got {held_out}")

    reporter = ProgressReporter(on_progress, "linear", "fit", len(decays) + int(len(decays) > 1))
    mean = train_x.mean(dim=0)
    std = train_x.std(dim=0).clamp_min(1e-6)  # constant features: leave them at 0, not inf
    train_x = (train_x - mean) / std
    val_x = (val_x - mean) / std

    curve: list[dict[str, float]] = []
    start_params: dict[float, Sequence[torch.Tensor]] = {}
    if len(decays) > 1:
        fit_idx, held_idx = stratified_split(train_y.cpu().numpy(), 1.0 - held_out, seed)
        if len(held_idx) == 0 or len(fit_idx) == 0:
            raise ValueError(
                f"cannot hold out {held_out:.0%} of {len(train_y)} training samples to choose the weight decay; "
                "pass a single weight decay"
            )
        fit_idx_t = torch.from_numpy(fit_idx).to(device)
        held_idx_t = torch.from_numpy(held_idx).to(device)
        fit_x, fit_y = train_x[fit_idx_t], train_y[fit_idx_t]
        held_x, held_y = train_x[held_idx_t], train_y[held_idx_t]
        params = None
        for decay in decays:
            *params, iterations = _fit_softmax(fit_x, fit_y, num_classes, decay, max_iter, params)
            start_params[decay] = params
            top1 = topk_accuracy(_logits(held_x, params), held_y, 1)
            curve.append({"weight_decay": decay, "top1": top1, "iterations": iterations})
            reporter(1, {"decay": f"{decay:g}", "held_out_top1": f"{top1:.3f}"})
        del fit_x, fit_y, held_x, held_y
        # max() keeps the first of equals; the curve runs strongest first, so ties go to the larger decay.
        chosen = max(curve, key=lambda point: point["top1"])["weight_decay"]
    else:
        chosen = decays[0]

    *params, iterations = _fit_softmax(train_x, train_y, num_classes, chosen, max_iter, start_params.get(chosen))
    reporter(1, {"decay": f"{chosen:g}"})
    logits = _logits(val_x, params)
    return {
        "top1": topk_accuracy(logits, val_y, 1),
        "top5": topk_accuracy(logits, val_y, 5),
        "weight_decay": chosen,
        "held_out": sorted(curve, key=lambda point: point["weight_decay"]),
        "held_out_fraction": held_out if len(decays) > 1 else 0.0,
        "iterations": iterations,
        "max_iter": max_iter,
        "num_classes": num_classes,
        "n_train": len(train_y),
        "n_val": len(val_y),
        "feature_dim": int(train_x.shape[1]),
        "fit_seconds": round(time.perf_counter() - start, 3),
    }


def knn_probe(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    val_x: torch.Tensor,
    val_y: torch.Tensor,
    *,
    num_classes: int,
    ks: Sequence[int] = DEFAULT_KS,
    temperature: float = 0.07,
    batch_size: int | None = None,
    device: str | torch.device = "cpu",
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Weighted kNN on cosine similarity (Wu et al. 2018, as in DINO): each of the k nearest train
    samples votes for its class with weight exp(similarity / temperature).

    `ks` larger than the train set are clipped to it (reported as `k_used`). Val is processed in
    batches of `batch_size` (default: as many as keep one similarity block near 64M floats, 256 MB)
    so memory stays bounded whatever the size of val. `on_progress` gets a "knn" job counting the
    val images classified.
    """
    start = time.perf_counter()
    device = torch.device(device)
    train_x, train_y = _checked(train_x, train_y, num_classes, "train", device)
    val_x, val_y = _checked(val_x, val_y, num_classes, "val", device)
    if train_x.shape[1] != val_x.shape[1]:
        raise ValueError(f"train features have {train_x.shape[1]} dimensions, val features {val_x.shape[1]}")
    if not ks or min(ks) < 1:
        raise ValueError(f"ks must be a non-empty list of integers >= 1, got {list(ks)}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    n_train = len(train_y)
    used = {k: min(int(k), n_train) for k in ks}
    k_max = max(used.values())
    if batch_size is None:
        batch_size = max(1, min(1024, (1 << 26) // n_train))

    train_x = F.normalize(train_x, dim=1)
    correct = {k: [0, 0] for k in ks}  # top-1, top-5 counts
    reporter = ProgressReporter(on_progress, "knn", "image", len(val_y))
    for first in range(0, len(val_y), batch_size):
        batch = F.normalize(val_x[first : first + batch_size], dim=1)
        labels = val_y[first : first + batch_size]
        similarity, nearest = (batch @ train_x.T).topk(k_max, dim=1)  # sorted, most similar first
        # Relative to each row's best match: the same votes up to a per-row factor, so the same
        # ranking, but no float32 overflow for small temperatures (exp(1 / 0.01) is over 1e38).
        weights = ((similarity - similarity[:, :1]) / temperature).exp()
        neighbour_labels = train_y[nearest]
        for k in ks:
            votes = torch.zeros(len(batch), num_classes, device=device, dtype=weights.dtype)
            votes.scatter_add_(1, neighbour_labels[:, : used[k]], weights[:, : used[k]])
            correct[k][0] += _correct(votes, labels, 1)
            correct[k][1] += _correct(votes, labels, 5)
        reporter(len(batch))
    n_val = len(val_y)
    return {
        "temperature": temperature,
        "by_k": {str(k): {"k_used": used[k], "top1": correct[k][0] / n_val, "top5": correct[k][1] / n_val} for k in ks},
        "num_classes": num_classes,
        "n_train": n_train,
        "n_val": n_val,
        "seconds": round(time.perf_counter() - start, 3),
    }


# -- internals -----------------------------------------------------------------------------------


def _checked(
    x: torch.Tensor, y: torch.Tensor, num_classes: int, what: str, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Features as float32 (N, D) and labels as int64 (N,) on `device`, after checking them."""
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"{what}: expected features (N, D) and labels (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
    if len(y) == 0:
        raise ValueError(f"{what}: no samples")
    if not x.is_floating_point():
        raise ValueError(f"{what}: features must be floating point, got {x.dtype}")
    y = y.to(device=device, dtype=torch.int64)
    if int(y.min()) < 0 or int(y.max()) >= num_classes:
        raise ValueError(f"{what}: labels must lie in [0, {num_classes}), found {int(y.min())}..{int(y.max())}")
    return x.to(device=device, dtype=torch.float32), y


def _fit_softmax(
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    weight_decay: float,
    max_iter: int,
    init: Sequence[torch.Tensor] | None,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Minimise mean cross-entropy + weight_decay/2 ||W||^2 (the bias is not penalised) with L-BFGS;
    returns the weight (C, D), the bias (C,) and the number of iterations run."""
    if init is None:
        weight = torch.zeros(num_classes, x.shape[1], device=x.device)  # (C, D), as nn.Linear
        bias = torch.zeros(num_classes, device=x.device)
    else:
        weight, bias = (t.clone() for t in init)
    optimizer = torch.optim.LBFGS(
        [weight, bias],
        lr=1.0,
        max_iter=max_iter,
        history_size=20,
        tolerance_grad=TOLERANCE_GRAD,
        tolerance_change=TOLERANCE_CHANGE,
        line_search_fn="strong_wolfe",
    )

    rows = torch.arange(len(y), device=x.device)

    # The gradient by hand rather than by autograd: G^T X reads the features in their row-major
    # layout, about twice as fast on CPU as the X^T G that autograd computes (both are bound by
    # memory bandwidth: each evaluation streams the whole feature matrix twice).
    def closure() -> torch.Tensor:
        with torch.no_grad():
            log_probs = torch.addmm(bias, x, weight.T).log_softmax(dim=1)
            # Summed in float64: near the optimum, float32 sums could not resolve the loss changes
            # that the line search and the stopping test compare.
            loss = -log_probs[rows, y].sum(dtype=torch.float64) / len(y)
            residual = log_probs.exp_()  # d loss / d logits = (softmax - one_hot) / N
            residual[rows, y] -= 1.0
            residual /= len(y)
            weight.grad = residual.T @ x
            bias.grad = residual.sum(dim=0)
            if weight_decay:
                loss += 0.5 * weight_decay * weight.square().sum()
                weight.grad += weight_decay * weight
        return loss

    optimizer.step(closure)
    return weight, bias, int(optimizer.state[weight]["n_iter"])


def _logits(x: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    weight, bias = params
    return torch.addmm(bias, x, weight.T)


def _correct(scores: torch.Tensor, labels: torch.Tensor, k: int) -> int:
    """How many rows have their label among the `k` highest scores (all of them when k >= classes)."""
    if k >= scores.shape[1]:
        return len(labels)
    top = scores.topk(k, dim=1).indices
    return int((top == labels[:, None]).any(dim=1).sum())


def topk_accuracy(scores: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    """The share of rows whose label is among the `k` highest scores."""
    return _correct(scores, labels, k) / len(labels)


__all__ = ["DEFAULT_KS", "DEFAULT_WEIGHT_DECAYS", "knn_probe", "linear_probe", "topk_accuracy"]
