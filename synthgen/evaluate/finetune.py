"""Fine-tuning on few labels: the whole network (a copy of the encoder's backbone) and a new linear
head, trained with cross-entropy on the labelled train split, scored top-1/top-5 on val.

This is the second protocol next to the frozen-feature probes (FractalDB and 1p-frac report their
gains this way): what a user with a few labelled images per class gets from a pretrained backbone.
The untrained network (`random:ARCH@SIZE`) fine-tuned with the same recipe is its baseline, so the
recipe is fixed and the same for every encoder (`FinetuneSettings`, reported in full):

- AdamW, one peak learning rate for backbone and head, weight decay 0.05 on weights (biases and
  norm parameters undecayed, as in pretraining: synthgen.train.optim), linear warm-up over the first
  10% of steps, then a cosine decay to 0.
- Batches of 64 (clipped to the train size), reshuffled every epoch; the last incomplete batch of an
  epoch is left out, so that BatchNorm never sees a batch of one.
- Light augmentation in torch on the batch: a random crop after reflection padding of 4 px (at the
  encoder's input size) and a horizontal flip with probability 0.5. Reflection rather than zeros: no
  artificial border, whatever the images' background.
- Images resized to the encoder's input size and normalised with its mean and std, as for features
  (features.encoder_input). BatchNorm in train mode while training, eval mode for scoring.

Deterministic under `seed` on the CPU: the head's init, the batch order and the augmentations are
drawn from one `torch.Generator`; anything else that draws from torch's global generator (dropout)
runs under a fork of it seeded by `seed`, and the global state is restored afterwards.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from synthgen.evaluate.datasets import LabelledData
from synthgen.evaluate.features import Encoder, encoder_input
from synthgen.evaluate.probes import topk_accuracy
from synthgen.progress import ProgressCallback, ProgressReporter
from synthgen.sources.torch import torch_threads
from synthgen.train.optim import OptimConfig, build_optimizer, lr_at, set_lr

log = logging.getLogger(__name__)

# Val images scored per forward pass.
EVAL_BATCH = 256
# The head starts small (normal, this std) so that the first steps follow the backbone's features
# rather than a random projection of them (as linear-evaluation heads are initialised).
HEAD_INIT_STD = 0.01


@dataclass(frozen=True)
class FinetuneSettings:
    """The fine-tuning recipe (all of it is reported with the result).

    lr: the peak learning rate of backbone and head alike. 1e-3 is AdamW's usual value for training a
        small ResNet at batches of 64-256; one rate for both because the baseline is a random init,
        which a lower backbone rate (right for a strong pretrained network) would leave undertrained
        in 30 epochs of ~1,000 images, and the comparison needs one recipe for every encoder.
    """

    epochs: int = 30
    lr: float = 1e-3
    weight_decay: float = 0.05
    batch_size: int = 64
    warmup_fraction: float = 0.1
    crop_padding: int = 4
    flip: float = 0.5

    def __post_init__(self) -> None:
        checks = {
            "epochs": self.epochs >= 1,
            "lr": self.lr > 0,
            "weight_decay": self.weight_decay >= 0,
            "batch_size": self.batch_size >= 2,  # BatchNorm needs two samples in train mode
            "warmup_fraction": 0.0 <= self.warmup_fraction < 1.0,
            "crop_padding": self.crop_padding >= 0,
            "flip": 0.0 <= self.flip <= 1.0,
        }
        bad = next((name for name, ok in checks.items() if not ok), None)
        if bad is not None:
            expected = {"epochs": ">= 1", "lr": "> 0", "weight_decay": ">= 0", "batch_size": ">= 2",
                        "warmup_fraction": "in [0, 1)", "crop_padding": ">= 0", "flip": "in [0, 1]"}  # fmt: skip
            raise ValueError(f"finetune {bad} must be {expected[bad]}, got {getattr(self, bad)!r}")


def finetune_probe(
    encoder: Encoder,
    data: LabelledData,
    *,
    settings: FinetuneSettings = FinetuneSettings(),  # noqa: B008 (frozen, so one shared default is safe)
    seed: int = 0,
    device: str | torch.device = "cpu",
    threads: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Fine-tune a copy of `encoder.model` with a new linear head on `data.train`, score it on
    `data.val`; the encoder itself is left as it was. `threads`: torch CPU threads for the run
    (None: the process setting). `on_progress` gets a "finetune" job counting the steps (the
    last epoch's mean loss as status).

    Returns top1, top5 (val), train_loss (mean over the last epoch), epoch_losses, the settings,
    the batch size and steps used, sizes, feature_dim and seconds.
    """
    check_finetunable(encoder, settings)
    started = time.perf_counter()
    device = torch.device(device)
    num_classes = data.num_classes
    train_y = torch.from_numpy(data.train.labels).to(device)
    n_train = len(train_y)
    if n_train < 2:
        raise ValueError(f"{data.spec}: fine-tuning needs at least 2 training images, found {n_train}")
    batch_size = min(settings.batch_size, n_train)
    steps_per_epoch = n_train // batch_size
    total_steps = settings.epochs * steps_per_epoch
    warmup_steps = int(settings.warmup_fraction * total_steps)
    generator = torch.Generator().manual_seed(seed)
    reporter = ProgressReporter(on_progress, "finetune", "step", total_steps)

    with torch_threads(threads), torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        tuned = dataclasses.replace(encoder, model=copy.deepcopy(encoder.model).to(device))
        feature_dim = _feature_dim(tuned, device)
        head = nn.Linear(feature_dim, num_classes).to(device)
        with torch.no_grad():
            head.weight.copy_(torch.randn(num_classes, feature_dim, generator=generator) * HEAD_INIT_STD)
            head.bias.zero_()
        network = nn.ModuleDict({"backbone": tuned.model, "head": head})
        config = OptimConfig(name="adamw", lr=settings.lr, weight_decay=settings.weight_decay)
        optimizer = build_optimizer(network, config, device)

        step, epoch_losses = 0, []
        network.train()
        for _ in range(settings.epochs):
            order = torch.randperm(n_train, generator=generator)
            total = 0.0
            for first in range(0, steps_per_epoch * batch_size, batch_size):
                batch = order[first : first + batch_size]
                x = encoder_input(tuned, data.train.images[batch.numpy()], device)
                x = _augment(x, settings, generator)
                loss = F.cross_entropy(head(tuned.features(x)), train_y[batch.to(device)])
                set_lr(optimizer, lr_at(step, total_steps, warmup_steps, config))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                step += 1
                total += float(loss.detach())
                reporter(1, {"loss": f"{epoch_losses[-1]:.4f}"} if epoch_losses else {})
            epoch_losses.append(total / steps_per_epoch)
            if not math.isfinite(epoch_losses[-1]):
                raise ValueError(f"fine-tuning diverged (loss {epoch_losses[-1]}); try a lower learning rate")
        logits = _val_logits(tuned, head, data, device)
    val_y = torch.from_numpy(data.val.labels).to(device)
    report = {
        "top1": topk_accuracy(logits, val_y, 1),
        "top5": topk_accuracy(logits, val_y, 5),
        "train_loss": epoch_losses[-1],
        "epoch_losses": [round(value, 6) for value in epoch_losses],
        "settings": dataclasses.asdict(settings),
        "batch_size_used": batch_size,
        "steps": total_steps,
        "num_classes": num_classes,
        "n_train": n_train,
        "n_val": len(val_y),
        "feature_dim": feature_dim,
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 3),
    }
    log.info("fine-tuned %s: top-1 %.3f, train loss %.4f", encoder.identity, report["top1"], report["train_loss"])
    return report


def check_finetunable(encoder: Encoder, settings: FinetuneSettings) -> None:
    """ValueError unless `encoder` has weights to train and an input larger than the crop padding
    (callers check before loading any data)."""
    if not any(True for _ in encoder.model.parameters()):
        raise ValueError(f"{encoder.identity}: this encoder has no weights to fine-tune (pixels are used as they are)")
    if settings.crop_padding >= encoder.image_size:
        raise ValueError(
            f"finetune crop_padding ({settings.crop_padding}) must be below the input size ({encoder.image_size})"
        )


@torch.no_grad()
def _feature_dim(encoder: Encoder, device: torch.device) -> int:
    """The width of `encoder.features` (of a chosen layer too), from a pass over two blank images
    in eval mode (no BatchNorm statistics change)."""
    encoder.model.eval()
    blank = torch.zeros(2, 3, encoder.image_size, encoder.image_size, device=device)
    return int(encoder.features(blank).shape[1])


def _augment(x: torch.Tensor, settings: FinetuneSettings, generator: torch.Generator) -> torch.Tensor:
    """Random crop after reflection padding and horizontal flip, per image, drawn from `generator`
    (on the CPU, so the draws are the same on any device)."""
    n, _, height, width = x.shape
    pad = settings.crop_padding
    if pad:
        padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
        top = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
        left = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
        rows = (top[:, None] + torch.arange(height, device=x.device))[:, :, None]  # (N, H, 1)
        cols = (left[:, None] + torch.arange(width, device=x.device))[:, None, :]  # (N, 1, W)
        # Advanced indices around a slice put their dimensions first: (N, H, W, C).
        x = padded[torch.arange(n, device=x.device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)
    if settings.flip:
        flip = (torch.rand(n, generator=generator) < settings.flip).to(x.device)
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    return x.contiguous()


@torch.no_grad()
def _val_logits(encoder: Encoder, head: nn.Module, data: LabelledData, device: torch.device) -> torch.Tensor:
    encoder.model.eval()
    parts = []
    for first in range(0, len(data.val), EVAL_BATCH):
        x = encoder_input(encoder, data.val.images[first : first + EVAL_BATCH], device)
        parts.append(head(encoder.features(x)).float())
    return torch.cat(parts)


__all__ = ["FinetuneSettings", "check_finetunable", "finetune_probe"]
