"""Optimisers, parameter groups and the learning-rate schedule."""

from __future__ import annotations

import io
import math

import pytest
import torch
from pydantic import ValidationError
from torch import nn

from synthgen.train.optim import LARS, OptimConfig, build_optimizer, lr_at, set_lr

CPU = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def small_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))


def test_defaults_by_optimizer():
    assert (OptimConfig().name, OptimConfig().lr, OptimConfig().weight_decay) == ("sgd", 0.03, 1e-4)
    lars = OptimConfig(name="lars")
    assert (lars.lr, lars.weight_decay, lars.eta, lars.momentum) == (0.3, 1e-4, 0.001, 0.9)
    adamw = OptimConfig(name="adamw", lr=5e-4)
    assert (adamw.lr, adamw.weight_decay, adamw.betas) == (5e-4, 0.05, (0.9, 0.999))
    assert (adamw.warmup_epochs, adamw.min_lr, adamw.exclude_bias_and_norm) == (1.0, 0.0, True)
    # The resolved config round-trips (its dump names every value).
    assert OptimConfig(**lars.model_dump()) == lars


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "adam"},
        {"name": "sgd", "betas": (0.9, 0.99)},
        {"name": "adamw", "momentum": 0.8},
        {"name": "sgd", "eta": 0.01},
        {"lr": 0.0},
        {"lr": 0.1, "min_lr": 0.2},
        {"warmup_epochs": -1},
        {"learning_rate": 0.1},
    ],
)
def test_config_errors(bad):
    with pytest.raises(ValidationError):
        OptimConfig(**bad)


def test_schedule():
    config = OptimConfig(lr=0.4, min_lr=0.01)
    total, warmup = 1000, 100
    assert lr_at(0, total, warmup, config) == 0.0
    assert lr_at(50, total, warmup, config) == pytest.approx(0.2)
    assert lr_at(warmup, total, warmup, config) == pytest.approx(0.4)
    assert lr_at(550, total, warmup, config) == pytest.approx((0.4 + 0.01) / 2)  # half way down the cosine
    assert lr_at(325, total, warmup, config) == pytest.approx(0.01 + 0.39 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert lr_at(total, total, warmup, config) == pytest.approx(0.01)
    assert lr_at(total + 10, total, warmup, config) == pytest.approx(0.01)
    assert lr_at(0, total, 0, config) == pytest.approx(0.4)  # no warm-up


def test_set_lr():
    optimizer = build_optimizer(small_model(), OptimConfig(), CPU)
    set_lr(optimizer, 0.123)
    assert [g["lr"] for g in optimizer.param_groups] == [0.123, 0.123]


@pytest.mark.parametrize("name", ["sgd", "lars", "adamw"])
def test_excluded_params_get_no_weight_decay(name):
    model = small_model()
    optimizer = build_optimizer(model, OptimConfig(name=name, weight_decay=0.1), CPU)
    decay, excluded = optimizer.param_groups
    assert decay["weight_decay"] == 0.1 and excluded["weight_decay"] == 0.0
    assert {id(p) for p in decay["params"]} == {id(model[0].weight), id(model[3].weight)}
    assert len(excluded["params"]) == 4  # two biases, BN weight and bias
    if name == "lars":
        assert decay["lars_adaptation"] and not excluded["lars_adaptation"]

    # With zero gradients only weight decay moves parameters: weights shrink, the others stay.
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    for n, p in model.named_parameters():
        if p.ndim > 1:
            assert p.norm() < before[n].norm(), n
        else:
            assert torch.equal(p, before[n]), n

    together = build_optimizer(model, OptimConfig(name=name, exclude_bias_and_norm=False), CPU)
    assert len(together.param_groups) == 1


def test_frozen_params_are_left_out():
    model = small_model()
    model[0].requires_grad_(False)
    optimizer = build_optimizer(model, OptimConfig(), CPU)
    params = {id(p) for g in optimizer.param_groups for p in g["params"]}
    assert id(model[0].weight) not in params and id(model[3].weight) in params


def test_lars_trust_ratio_by_hand():
    weight = nn.Parameter(torch.tensor([3.0, 4.0]))  # |w| = 5
    bias = nn.Parameter(torch.tensor([1.0]))
    optimizer = LARS(
        [
            {"params": [weight], "weight_decay": 0.1},
            {"params": [bias], "weight_decay": 0.0, "lars_adaptation": False},
        ],
        lr=1.0,
        momentum=0.9,
        eta=0.1,
    )
    weight.grad = torch.tensor([0.6, 0.8])
    bias.grad = torch.tensor([0.5])
    optimizer.step()
    # u = g + 0.1 w = (0.9, 1.2), |u| = 1.5; trust = 0.1 * 5 / 1.5 = 1/3; update = (0.3, 0.4).
    assert torch.allclose(weight, torch.tensor([2.7, 3.6]))
    assert torch.allclose(bias, torch.tensor([0.5]))  # plain SGD step: 1 - 0.5
    # Second step: the momentum buffer accumulates the scaled updates.
    weight.grad = torch.tensor([0.0, 0.0])
    bias.grad = torch.tensor([0.0])
    optimizer.step()
    # u = 0 + 0.1 w, trust = 0.1 |w| / |0.1 w| = 1, buf = 0.9 * (0.3, 0.4) + u.
    u = 0.1 * torch.tensor([2.7, 3.6])
    expected = torch.tensor([2.7, 3.6]) - (0.9 * torch.tensor([0.3, 0.4]) + u)
    assert torch.allclose(weight, expected)
    assert torch.allclose(bias, torch.tensor([0.5 - 0.9 * 0.5]))


def test_lars_zero_norms_skip_adaptation():
    weight = nn.Parameter(torch.zeros(3))
    optimizer = LARS([weight], lr=0.5, momentum=0.0, eta=0.001)
    weight.grad = torch.tensor([1.0, 0.0, -1.0])
    optimizer.step()  # |w| = 0: trust ratio 1, a plain SGD step
    assert torch.allclose(weight, torch.tensor([-0.5, 0.0, 0.5]))


def test_lars_minimises_a_quadratic():
    torch.manual_seed(0)
    target = torch.randn(16)
    weight = nn.Parameter(torch.randn(16))
    optimizer = LARS([weight], lr=1.0, momentum=0.9, eta=0.02)
    losses = []
    for _ in range(60):
        loss = (weight - target).pow(2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0]


@pytest.mark.parametrize("name", ["sgd", "lars", "adamw"])
def test_state_dict_round_trips_weights_only(name):
    config = OptimConfig(name=name)
    data = torch.randn(8, 4)

    def train(model: nn.Module, optimizer: torch.optim.Optimizer, steps: int) -> None:
        for _ in range(steps):
            optimizer.zero_grad()
            model(data).pow(2).mean().backward()
            optimizer.step()

    model = small_model()
    optimizer = build_optimizer(model, config, CPU)
    train(model, optimizer, 2)
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
    buffer.seek(0)
    checkpoint = torch.load(buffer, weights_only=True)

    resumed_model = small_model()
    resumed_model.load_state_dict(checkpoint["model"])
    resumed = build_optimizer(resumed_model, config, CPU)
    resumed.load_state_dict(checkpoint["optimizer"])
    train(model, optimizer, 2)
    train(resumed_model, resumed, 2)
    for a, b in zip(model.parameters(), resumed_model.parameters(), strict=True):
        assert torch.equal(a, b)
