"""Watching a run learn: a kNN probe of the backbone being pretrained, every N steps (the online
kNN of solo-learn and lightly).

    eval: {monitor: {dataset: idx:/usr/share/datasets/fashion-mnist, every: 500, limit: 2000, k: 20}}

    monitor = build_monitor(config)          # loads the labelled images once, now
    train(config, run_dir, monitor=monitor)  # metrics.jsonl lines gain monitor_knn_top1

The labelled set is small and loaded once, before training: `limit` images drawn per class from
the dataset's train split are the kNN bank, `limit // 4` (at least one) from its val split are
classified, with the subsets of seed 0 (the same images in every run, whatever its seed). They
are resized to the training input side once, when loaded, and normalised with the training mean
and std, as `synthgen eval` prepares them for the exported backbone: the figure at a step is the
kNN-`k` top-1 that `synthgen eval --probe knn --size SIDE --limit-train LIMIT --limit-val LIMIT/4`
would report for the backbone as it was at that step (the weighted kNN of synthgen.evaluate.probes).

A measure leaves training as it was: the backbone runs in eval mode without gradients (BatchNorm
statistics untouched) on the device it trains on, and every module's mode is restored after;
nothing random is drawn (training reseeds its generator at every step anyway).
"""

from __future__ import annotations

import logging
import os
import time

import numpy as np
import torch
from torch import nn

from synthgen.errors import CorpusError
from synthgen.evaluate.datasets import LabelledData, load_dataset
from synthgen.evaluate.features import Encoder, extract
from synthgen.evaluate.probes import knn_probe
from synthgen.recipe import load_recipe
from synthgen.train.config import TrainConfig
from synthgen.train.data import open_corpus
from synthgen.train.live import LIVE_PREFIX
from synthgen.train.loop import Monitor
from synthgen.train.recording import is_recording, open_recording

KEY = "monitor_knn_top1"
# The subsets drawn from the dataset: fixed, so that runs of different seeds are measured alike.
SEED = 0
BATCH_SIZE = 256

logger = logging.getLogger(__name__)


class KnnMonitor:
    """A kNN probe of a backbone on a labelled set held in memory; `monitor(backbone, step)`."""

    def __init__(
        self,
        data: LabelledData,
        *,
        image_size: int,
        mean: tuple[float, ...],
        std: tuple[float, ...],
        k: int = 20,
        device: str | torch.device | None = None,
    ) -> None:
        self.data = data
        self.image_size = image_size
        self.mean, self.std = tuple(mean), tuple(std)
        self.k = k
        self.device = device

    def features(self, backbone: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        """Features of the bank and of the images to classify, from `backbone` as it is now, on its
        own device (moving it would move the weights under the optimiser); every module's mode is
        restored afterwards."""
        parameter = next(backbone.parameters(), None)
        device = str(parameter.device) if parameter is not None else "cpu"
        encoder = Encoder("monitor", backbone, self.image_size, self.mean, self.std)
        modes = [(module, module.training) for module in backbone.modules()]
        try:
            bank = extract(encoder, self.data.train.images, batch_size=BATCH_SIZE, device=device)
            test = extract(encoder, self.data.val.images, batch_size=BATCH_SIZE, device=device)
        finally:
            for module, training in modes:
                module.training = training
        return bank, test

    def __call__(self, backbone: nn.Module, step: int) -> dict[str, float]:
        started = time.perf_counter()
        bank, test = self.features(backbone)
        device = self.device if self.device is not None else "cpu"  # features come back on the CPU
        result = knn_probe(
            bank,
            torch.from_numpy(self.data.train.labels),
            test,
            torch.from_numpy(self.data.val.labels),
            num_classes=self.data.num_classes,
            ks=(self.k,),
            device=device,
        )
        top1 = float(result["by_k"][str(self.k)]["top1"])
        logger.info("monitor at step %d: kNN-%d top-1 %.1f%% (%.1fs)", step, self.k, 100 * top1,
                    time.perf_counter() - started)  # fmt: skip
        return {KEY: top1}


def build_monitor(
    config: TrainConfig, device: str | torch.device | None = None, *, image_size: int | None = None
) -> Monitor | None:
    """The monitor `config.eval.monitor` asks for, its labelled images loaded now (a bad dataset
    fails here, in one line, before any training); None without that section, and on every process
    but rank 0 under torchrun (only the main process measures).

    `device`: where the kNN vote runs (default: the CPU; features are always computed where the
    backbone is). `image_size`: the training input side, when the caller knows it (else found
    from the config: augment.size, data.image_size, or the first corpus's images).
    """
    settings = config.eval.monitor
    if settings is None or int(os.environ.get("RANK", "0")) != 0:
        return None
    side = image_size or training_side(config)
    try:
        data = load_dataset(
            settings.dataset, seed=SEED, size=side, limit_train=settings.limit, limit_val=max(1, settings.limit // 4)
        )
    except CorpusError as err:
        raise CorpusError(f"eval.monitor.dataset: {err}") from None
    logger.info(
        "monitor: %s, %d bank and %d test images of %d classes at %d px",
        settings.dataset, len(data.train), len(data.val), data.num_classes, side,
    )  # fmt: skip
    counts = np.bincount(data.train.labels, minlength=data.num_classes)
    if counts.min() == 0:
        logger.warning("eval.monitor.limit: %d bank images leave some of the %d classes out", settings.limit,
                       data.num_classes)  # fmt: skip
    return KnnMonitor(data, image_size=side, mean=config.augment.mean, std=config.augment.std, k=settings.k,
                      device=device)  # fmt: skip


def training_side(config: TrainConfig) -> int:
    """The side of the images the backbone trains on, as the training loop resolves it: augment.size,
    else data.image_size, else the first corpus's (read from its first sample or its recipe)."""
    side = config.augment.size or config.data.image_size
    if side is not None:
        return side
    first = config.data.corpora[0].url
    if first.startswith(LIVE_PREFIX):
        # The recipe alone: opening a live corpus renders a sample (a saved stream records its recipe).
        path = first.removeprefix(LIVE_PREFIX)
        recipe = open_recording(path).recipe if is_recording(path) else load_recipe(path)
        return recipe.image.size[0]
    return open_corpus(first, storage_options=config.data.storage_options).image_size[0]


__all__ = ["KEY", "KnnMonitor", "build_monitor", "training_side"]
