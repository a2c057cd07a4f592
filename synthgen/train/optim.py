"""Optimisers and the learning-rate schedule of pretraining.

- `OptimConfig`: SGD with momentum, LARS or AdamW, an absolute peak learning rate, weight decay, and a
  linear warm-up followed by a cosine decay.
- `LARS`: SGD with momentum whose per-parameter update is scaled by the trust ratio
  eta * |w| / |g + wd * w| (You et al. 2017, as used by SimCLR).
- `build_optimizer`: parameter groups with and without weight decay; `lr_at`, `set_lr`: the schedule,
  set by the training loop before every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Literal

import torch
from pydantic import Field, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from torch import nn

from synthgen.schema import StrictModel

# Peak learning rates and weight decays by optimiser, the papers' values at a batch of 256 (scale the
# learning rate linearly with the batch): MoCo v2's SGD (0.03, 1e-4); SimCLR's LARS learning rate
# (0.3 x B/256) with MoCo's decay; AdamW's usual self-supervised setting (1e-3, 0.05).
DEFAULT_LR = {"sgd": 0.03, "lars": 0.3, "adamw": 1e-3}
DEFAULT_WEIGHT_DECAY = {"sgd": 1e-4, "lars": 1e-4, "adamw": 0.05}
# Fields that only some optimisers read: setting them for another is an error, not a silent no-op.
ONLY_FOR = {"momentum": ("sgd", "lars"), "betas": ("adamw",), "eta": ("lars",)}


class OptimConfig(StrictModel):
    """Optimiser and schedule. `lr` is the peak learning rate (absolute, not per 256 samples) and
    `weight_decay` the decay of weights; both default by optimiser (sgd 0.03 / 1e-4, lars 0.3 / 1e-4,
    adamw 1e-3 / 0.05). The schedule warms up linearly from 0 over `warmup_epochs`, then decays by a
    cosine to `min_lr` at the last step. With `exclude_bias_and_norm`, 1-dimensional parameters
    (biases, norm scales and shifts) get no weight decay and no LARS adaptation.
    `momentum` is read by sgd and lars, `betas` by adamw, `eta` (the LARS trust coefficient) by lars."""

    name: Literal["sgd", "lars", "adamw"] = "sgd"
    lr: float = Field(gt=0.0)
    weight_decay: float = Field(ge=0.0)
    momentum: float = Field(0.9, ge=0.0, lt=1.0)
    betas: tuple[float, float] = (0.9, 0.999)
    eta: float = Field(0.001, gt=0.0)
    warmup_epochs: float = Field(1.0, ge=0.0)
    min_lr: float = Field(0.0, ge=0.0)
    exclude_bias_and_norm: bool = True

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # lr and weight_decay default by optimiser (_defaults_by_optimizer): a document may leave
        # them out, so the JSON Schema (synthgen schema train) does not require them.
        generated = handler(schema)
        generated.pop("required", None)
        return generated

    @model_validator(mode="before")
    @classmethod
    def _defaults_by_optimizer(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        name = data.get("name", "sgd")
        if not isinstance(name, str) or name not in DEFAULT_LR:  # a list or mapping is not hashable
            return data  # the Literal check reports it
        data = dict(data)
        data.setdefault("lr", DEFAULT_LR[name])
        data.setdefault("weight_decay", DEFAULT_WEIGHT_DECAY[name])
        return data

    @model_validator(mode="after")
    def _fields_read_by_this_optimizer(self) -> OptimConfig:
        # A value the optimiser would ignore is an error; the default is let through, so that a dumped
        # (resolved) config, which lists every field, loads again.
        for field, readers in ONLY_FOR.items():
            default = type(self).model_fields[field].default
            if self.name not in readers and field in self.model_fields_set and getattr(self, field) != default:
                raise ValueError(f"`{field}` is only read by {' and '.join(readers)}, not by {self.name}")
        return self

    @model_validator(mode="after")
    def _min_lr_below_lr(self) -> OptimConfig:
        if self.min_lr > self.lr:
            raise ValueError(f"min_lr ({self.min_lr}) must be <= lr ({self.lr})")
        return self


class LARS(torch.optim.Optimizer):
    """LARS: SGD with momentum and a layer-wise trust ratio (You et al. 2017; SimCLR's variant).

    For each parameter w with gradient g in a group with `lars_adaptation` (default True):
        u = g + weight_decay * w
        u = u * (eta * |w| / |u|)      (only where |w| > 0 and |u| > 0; else unscaled)
        buf = momentum * buf + u
        w = w - lr * buf
    Groups with `lars_adaptation: False` (biases and norm parameters) skip the trust ratio, and are
    given weight_decay 0 by `build_optimizer`. The state is one `momentum_buffer` tensor per parameter.
    """

    def __init__(
        self,
        params: Iterable[nn.Parameter] | Iterable[dict[str, Any]],
        lr: float,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        eta: float = 0.001,
        lars_adaptation: bool = True,
    ) -> None:
        if lr < 0 or momentum < 0 or weight_decay < 0 or eta <= 0:
            raise ValueError(f"LARS: invalid lr={lr}, momentum={momentum}, weight_decay={weight_decay} or eta={eta}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "weight_decay": weight_decay,
            "eta": eta,
            "lars_adaptation": lars_adaptation,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                update = param.grad
                if group["weight_decay"] != 0:
                    update = update.add(param, alpha=group["weight_decay"])
                if group["lars_adaptation"]:
                    param_norm = torch.linalg.vector_norm(param)
                    update_norm = torch.linalg.vector_norm(update)
                    # torch.where rather than `if`: no device-to-host sync per parameter.
                    trust = torch.where(
                        (param_norm > 0) & (update_norm > 0),
                        group["eta"] * param_norm / update_norm,
                        torch.ones_like(param_norm),
                    )
                    update = update * trust
                state = self.state[param]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.clone(update).detach()
                else:
                    state["momentum_buffer"].mul_(group["momentum"]).add_(update)
                param.add_(state["momentum_buffer"], alpha=-group["lr"])
        return loss


def param_groups(model: nn.Module, config: OptimConfig) -> list[dict[str, Any]]:
    """Trainable parameters split into a decayed group and, with `exclude_bias_and_norm`, an excluded one
    (1-dim parameters: no weight decay, no LARS adaptation). Frozen parameters (e.g. MoCo's momentum
    encoder) are left out. Empty groups are dropped."""
    decay: list[nn.Parameter] = []
    excluded: list[nn.Parameter] = []
    for param in model.parameters():
        if not param.requires_grad:
            continue
        (excluded if config.exclude_bias_and_norm and param.ndim <= 1 else decay).append(param)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": excluded, "weight_decay": 0.0, "lars_adaptation": False},
    ]
    if config.name != "lars":
        for group in groups:
            group.pop("lars_adaptation", None)
    return [group for group in groups if group["params"]]


def build_optimizer(model: nn.Module, config: OptimConfig, device: torch.device) -> torch.optim.Optimizer:
    """The optimiser of `config` over `model`'s trainable parameters (call after moving the model to
    `device`). Its learning rate starts at `config.lr`; the loop sets it every step with `set_lr`.

    SGD and AdamW use torch's fused kernels on CUDA; elsewhere torch's default implementation (fused
    kernels for other devices depend on the torch version, and the gain there is small)."""
    groups = param_groups(model, config)
    if not groups:
        raise ValueError("the model has no trainable parameters")
    fused = {"fused": True} if torch.device(device).type == "cuda" else {}
    if config.name == "sgd":
        return torch.optim.SGD(
            groups, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay, **fused
        )
    if config.name == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay, **fused)
    return LARS(groups, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay, eta=config.eta)


def lr_at(step: int, total_steps: int, warmup_steps: int, config: OptimConfig) -> float:
    """Learning rate of optimiser step `step` (0-based): linear from 0 at step 0 to `config.lr` at
    `warmup_steps`, then a half cosine down to `config.min_lr` at `total_steps` (held there after)."""
    if step < warmup_steps:
        return config.lr * step / warmup_steps
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    return config.min_lr + (config.lr - config.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr
