"""Pretraining methods: contrastive losses, cross-entropy on labels, and the small modules that apply
them to a backbone.

Two layers:

- Pure loss functions on L2-normalised embeddings `z` of shape (B, V, D) (B samples or groups, V views
  of each): `nt_xent` (SimCLR), `multi_positive` (StableRep), `supcon` (SupCon, "L_out" form) and
  `align_uniform` (Wang & Isola). Each returns a scalar loss, the mean over this process's anchors.
- Method modules (`SimCLR`, `MoCoV2`, `MultiPositive`, `SupCon`, `AlignUniform`, and `Supervised`,
  cross-entropy on the corpus's `cls` through a classification head), each built from the backbone
  and its pydantic config: `forward(views, labels) -> (loss, metrics)`.

Embeddings are flattened view-major within a sample: row `b * V + v` is view v of sample b, so rows
`[b * V, (b + 1) * V)` form one group of positives.

Distributed: when a process group with more than one rank is initialised, the contrastive losses
gather every rank's embeddings with an autograd-aware all-gather and score this rank's anchors against
the global batch (all ranks must pass the same B, as the gather concatenates equal-sized pieces). The
loss is the mean over local anchors; DDP's gradient averaging then gives the gradient of the mean over
all anchors, because the gather's backward sums the gradients that every rank sends back to a piece.
Without a process group (or with one rank) everything is local.

Losses are computed in at least float32 whatever the embeddings' dtype: logits divided by a temperature
of 0.1 overflow float16, and the cost is negligible next to the backbone.
"""

from __future__ import annotations

import copy
import math
import warnings
from typing import Annotated, ClassVar, Literal

import torch
import torch.distributed as dist
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from synthgen.schema import StrictModel

# ----------------------------------------------------------------------------------------------
# Distributed helpers
# ----------------------------------------------------------------------------------------------


def _rank_and_world() -> tuple[int, int]:
    """This process's rank and the world size; (0, 1) without an initialised process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def gather_with_grad(x: Tensor) -> Tensor:
    """Concatenate `x` from every rank along dim 0, keeping the autograd graph (identity on one rank).

    Gradients reaching another rank's piece are sent back to that rank and summed there, so each
    rank's loss on its local anchors trains every rank's encoder.
    """
    _, world = _rank_and_world()
    if world == 1:
        return x
    from torch.distributed.nn.functional import all_gather

    # torch >= 2.6 marks this function deprecated in favour of functional collectives that older
    # torch (which pyproject still allows) lacks; it works, so its FutureWarning is only noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        pieces = all_gather(x.contiguous())
    return torch.cat(pieces, dim=0)


@torch.no_grad()
def gather_no_grad(x: Tensor) -> Tensor:
    """Concatenate `x` from every rank along dim 0 without autograd (labels, MoCo keys)."""
    _, world = _rank_and_world()
    if world == 1:
        return x
    x = x.contiguous()
    pieces = [torch.empty_like(x) for _ in range(world)]
    dist.all_gather(pieces, x)
    return torch.cat(pieces, dim=0)


# ----------------------------------------------------------------------------------------------
# Losses
# ----------------------------------------------------------------------------------------------


def _check_embeddings(z: Tensor, *, views: int | None = None, min_views: int = 1) -> None:
    if z.ndim != 3:
        raise ValueError(f"embeddings must have shape (B, V, D), got {tuple(z.shape)}")
    if views is not None and z.shape[1] != views:
        raise ValueError(f"this loss needs exactly {views} views per sample, got {z.shape[1]}")
    if z.shape[1] < min_views:
        raise ValueError(f"this loss needs at least {min_views} views per sample, got {z.shape[1]}")


def _at_least_float32(x: Tensor) -> Tensor:
    """float16/bfloat16 -> float32 (logits / temperature overflow half precision); float64 stays."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _no_autocast(x: Tensor) -> torch.autocast:
    """Turn autocast off around a loss's products: under AMP they would be recast to half precision."""
    return torch.autocast(device_type=x.device.type, enabled=False)


def _anchor_logits(z: Tensor, temperature: float) -> tuple[Tensor, Tensor, Tensor]:
    """Similarities of this rank's embeddings (anchors) to the global batch, self excluded.

    Returns `(logits, anchor_rows, key_rows)`: logits (n, N) with n = B*V local anchors and N = world*n
    keys, the self-similarity set to -inf; and the global row index of each anchor and each key, from
    which callers derive groups (row // V) and partners.
    """
    b, v, d = z.shape
    local = _at_least_float32(z.reshape(b * v, d))
    keys = gather_with_grad(local)
    rank, _ = _rank_and_world()
    anchor_rows = torch.arange(b * v, device=z.device) + rank * b * v
    key_rows = torch.arange(keys.shape[0], device=z.device)
    with _no_autocast(z):
        logits = local @ keys.T / temperature
    is_self = anchor_rows[:, None] == key_rows[None, :]
    return logits.masked_fill(is_self, float("-inf")), anchor_rows, key_rows


def _soft_target_loss(logits: Tensor, positives: Tensor) -> Tensor:
    """Cross-entropy between the softmax over keys and the uniform distribution over each anchor's positives.

    Every anchor must have at least one positive (the callers guarantee V >= 2).
    """
    log_prob = F.log_softmax(logits, dim=1)
    # Non-positives (self included, whose log-prob is -inf) must contribute exactly 0, not 0 * -inf.
    per_anchor = log_prob.masked_fill(~positives, 0.0).sum(dim=1) / positives.sum(dim=1)
    return -per_anchor.mean()


def _top1_accuracy(logits: Tensor, positives: Tensor) -> Tensor:
    """Fraction of anchors whose most similar key (self excluded) is one of their positives."""
    nearest = logits.argmax(dim=1, keepdim=True)
    return positives.gather(1, nearest).float().mean().detach()


def _nt_xent(z: Tensor, temperature: float) -> tuple[Tensor, Tensor]:
    _check_embeddings(z, views=2)
    logits, anchor_rows, _ = _anchor_logits(z, temperature)
    # With two views, row 2b + v's positive is row 2b + (1 - v): flip the lowest bit.
    partner = anchor_rows ^ 1
    loss = F.cross_entropy(logits, partner)
    accuracy = (logits.argmax(dim=1) == partner).float().mean().detach()
    return loss, accuracy


def _multi_positive(z: Tensor, temperature: float) -> tuple[Tensor, Tensor]:
    _check_embeddings(z, min_views=2)
    views = z.shape[1]
    logits, anchor_rows, key_rows = _anchor_logits(z, temperature)
    positives = (anchor_rows[:, None] // views == key_rows[None, :] // views) & (
        anchor_rows[:, None] != key_rows[None, :]
    )
    return _soft_target_loss(logits, positives), _top1_accuracy(logits, positives)


def _supcon(z: Tensor, labels: Tensor | None, temperature: float) -> tuple[Tensor, Tensor]:
    if labels is None:
        raise ValueError(
            "supcon needs a class label per sample (the corpus's `cls` field), got labels=None; "
            "use a corpus whose recipe defines classes, or another method"
        )
    _check_embeddings(z, min_views=2)
    b, views, _ = z.shape
    if labels.shape != (b,):
        raise ValueError(f"supcon needs one label per sample, shape ({b},), got {tuple(labels.shape)}")
    logits, anchor_rows, key_rows = _anchor_logits(z, temperature)
    local_labels = labels.to(z.device).repeat_interleave(views)
    key_labels = gather_no_grad(local_labels)
    positives = (local_labels[:, None] == key_labels[None, :]) & (anchor_rows[:, None] != key_rows[None, :])
    return _soft_target_loss(logits, positives), _top1_accuracy(logits, positives)


def nt_xent(z: Tensor, temperature: float) -> Tensor:
    """SimCLR's NT-Xent loss on z (B, 2, D): each view's positive is the other view of its sample, the
    negatives are all other 2B - 2 embeddings (global batch in DDP). Mean over all anchors."""
    return _nt_xent(z, temperature)[0]


def multi_positive(z: Tensor, temperature: float) -> Tensor:
    """StableRep's multi-positive contrastive loss on z (B, V, D), V >= 2.

    Each anchor's target distribution is uniform over the other V - 1 views of its group; the loss is
    the cross-entropy against the softmax over all other B*V - 1 embeddings (self excluded). Equals
    `nt_xent` when V == 2."""
    return _multi_positive(z, temperature)[0]


def supcon(z: Tensor, labels: Tensor | None, temperature: float) -> Tensor:
    """Supervised contrastive loss (Khosla et al. 2020, "L_out") on z (B, V, D), V >= 2, labels (B,).

    Positives of an anchor are all other embeddings whose sample has the same label, the other views
    of its own sample included: L = mean_i  -1/|P(i)| sum_{p in P(i)} log softmax_{a != i}(z_i.z_a / T)[p].
    With all-distinct labels this is `multi_positive` (and `nt_xent` when V == 2)."""
    return _supcon(z, labels, temperature)[0]


def _align_uniform(
    z: Tensor, alpha: float, t: float, align_weight: float, uniform_weight: float
) -> tuple[Tensor, Tensor, Tensor]:
    _check_embeddings(z, views=2)
    z = _at_least_float32(z)
    align = (z[:, 0] - z[:, 1]).pow(2).sum(dim=1).pow(alpha / 2).mean()
    rank, _ = _rank_and_world()
    uniform = z.new_zeros(())
    for v in range(2):
        local = z[:, v]
        keys = gather_with_grad(local)
        # |x - y|^2 expanded, not cdist: cdist's gradient is NaN at the (masked) zero self-distances.
        with _no_autocast(z):
            products = local @ keys.T
        sq_dist = (local.pow(2).sum(1)[:, None] + keys.pow(2).sum(1)[None, :] - 2 * products).clamp_min(0)
        rows = torch.arange(local.shape[0], device=z.device)
        not_self = torch.ones_like(sq_dist, dtype=torch.bool)
        not_self[rows, rows + rank * local.shape[0]] = False
        # log of the mean over ordered pairs i != j of exp(-t |x_i - x_j|^2): the same mean as over pdist's pairs.
        log_terms = (-t * sq_dist)[not_self]
        uniform = uniform + (torch.logsumexp(log_terms, dim=0) - math.log(log_terms.numel())) / 2
    loss = align_weight * align + uniform_weight * uniform
    return loss, align.detach(), uniform.detach()


def align_uniform(
    z: Tensor, alpha: float = 2.0, t: float = 2.0, align_weight: float = 1.0, uniform_weight: float = 1.0
) -> Tensor:
    """Wang & Isola's alignment + uniformity loss on z (B, 2, D).

    align = mean_b |z_b0 - z_b1|^alpha; uniform = log mean_{i != j} exp(-t |z_i - z_j|^2) per view,
    averaged over the two views. Loss = align_weight * align + uniform_weight * uniform.

    In DDP, i ranges over this rank's samples and j over the global batch; averaging the ranks' losses
    then gives the mean of per-rank log-means, close to but not exactly the log-mean over the global
    batch (a log of a sum does not split across ranks)."""
    return _align_uniform(z, alpha, t, align_weight, uniform_weight)[0]


# ----------------------------------------------------------------------------------------------
# Configs
# ----------------------------------------------------------------------------------------------


class HeadConfig(StrictModel):
    """Projection head: `layers` - 1 blocks of Linear-BatchNorm-ReLU to `hidden` features, then a Linear
    to `out` (SimCLR v2 / MoCo v2 style); `layers: 1` is a single Linear."""

    hidden: int = Field(2048, ge=1)
    out: int = Field(128, ge=1)
    layers: int = Field(2, ge=1, le=8)


class SimCLRConfig(StrictModel):
    """SimCLR (Chen et al. 2020): NT-Xent between two views, negatives from the (global) batch."""

    name: Literal["simclr"] = "simclr"
    temperature: float = Field(0.1, gt=0.0)
    views: Literal[2] = 2
    head: HeadConfig = HeadConfig()


class MoCoV2Config(StrictModel):
    """MoCo v2 (Chen et al. 2020): query encoder vs an EMA key encoder, negatives from a queue of keys."""

    name: Literal["mocov2"] = "mocov2"
    temperature: float = Field(0.2, gt=0.0)
    queue_size: int = Field(65536, ge=1)
    momentum: float = Field(0.999, ge=0.0, le=1.0)  # MoCo v1/v2 (He et al., Chen et al.)
    # Also score view 1's query against view 0's key, and average the two losses.
    symmetric: bool = False
    views: Literal[2] = 2
    head: HeadConfig = HeadConfig()


class MultiPositiveConfig(StrictModel):
    """StableRep (Tian et al. 2023): multi-positive contrastive loss over `views` views of each group."""

    name: Literal["multipos"] = "multipos"
    temperature: float = Field(0.1, gt=0.0)
    views: int = Field(4, ge=2)
    head: HeadConfig = HeadConfig()


class SupConConfig(StrictModel):
    """SupCon (Khosla et al. 2020): positives are all samples with the same class label (`cls`)."""

    name: Literal["supcon"] = "supcon"
    temperature: float = Field(0.1, gt=0.0)
    views: int = Field(2, ge=2)
    head: HeadConfig = HeadConfig()


class AlignUniformConfig(StrictModel):
    """Alignment and uniformity on the hypersphere (Wang & Isola 2020)."""

    name: Literal["alignuniform"] = "alignuniform"
    alpha: float = Field(2.0, gt=0.0)
    t: float = Field(2.0, gt=0.0)
    align_weight: float = Field(1.0, ge=0.0)
    uniform_weight: float = Field(1.0, ge=0.0)
    views: Literal[2] = 2
    head: HeadConfig = HeadConfig()


class ClassifierHeadConfig(StrictModel):
    """The classification head of `supervised`: `layers: 1` (the default) is one Linear on the pooled
    features, as FractalDB and VisualAtom pretrain (a torchvision model with its `fc` replaced); more
    layers put `layers` - 1 Linear-BatchNorm-ReLU blocks of `hidden` features before that Linear."""

    hidden: int = Field(2048, ge=1)
    layers: int = Field(1, ge=1, le=8)


class SupervisedConfig(StrictModel):
    """Formula-driven supervised pretraining (FractalDB, Kataoka et al. ACCV 2020; VisualAtom, Takashima
    et al. CVPR 2023): cross-entropy on the corpus's `cls` (the generator's category) through a head."""

    name: Literal["supervised"] = "supervised"
    # The number of classes. An int: one label space (one corpus, or corpora with
    # `mixed_classes: shared`); a list: one count per corpus of data.corpora, in order, with
    # `mixed_classes: offset`. None: refused before training with a line asking for it (a corpus
    # does not record how many classes its generator has).
    classes: Annotated[int, Field(ge=1)] | list[Annotated[int, Field(ge=1)]] | None = None
    # DeiT's and VisualAtom's 0.1; FractalDB trained with plain cross-entropy (0).
    label_smoothing: float = Field(0.1, ge=0.0, lt=1.0)
    # Corpora mixed in one run each number their own classes (class 3 of one is not class 3 of
    # another): refuse such a mix, offset each corpus's labels by the previous corpora's counts,
    # or treat the corpora as sharing one label space.
    mixed_classes: Literal["refuse", "offset", "shared"] = "refuse"
    # Each view is one training example with its sample's label (FDSL trains on one).
    views: int = Field(1, ge=1)
    head: ClassifierHeadConfig = ClassifierHeadConfig()

    @property
    def total_classes(self) -> int | None:
        """The head's outputs: `classes`, or the sum of the per-corpus counts (None when unset)."""
        return sum(self.classes) if isinstance(self.classes, list) else self.classes


MethodConfig = Annotated[
    SimCLRConfig | MoCoV2Config | MultiPositiveConfig | SupConConfig | AlignUniformConfig | SupervisedConfig,
    Field(discriminator="name"),
]


# ----------------------------------------------------------------------------------------------
# Modules
# ----------------------------------------------------------------------------------------------


class ProjectionHead(nn.Sequential):
    """Linear-BN-ReLU blocks then a Linear; the hidden Linears have no bias (BatchNorm's shift replaces it)."""

    def __init__(self, in_features: int, config: HeadConfig) -> None:
        layers: list[nn.Module] = []
        width = in_features
        for _ in range(config.layers - 1):
            layers += [
                nn.Linear(width, config.hidden, bias=False),
                nn.BatchNorm1d(config.hidden),
                nn.ReLU(inplace=True),
            ]
            width = config.hidden
        layers.append(nn.Linear(width, config.out))
        super().__init__(*layers)


class Method(nn.Module):
    """A backbone, a projection head and a loss. Subclasses implement `forward`.

    `forward(views, labels)` takes already augmented views (B, V, C, H, W) float, V == config.views, and
    labels (B,) or None; it returns (loss, metrics) with metrics a dict of detached 0-dim tensors (no
    device sync; call `.item()` when logging).
    """

    # Whether forward needs the per-sample class labels (the corpus's `cls`).
    needs_labels: ClassVar[bool] = False
    # How many distinct stored images per sample the corpus must hold; with 1, the views are
    # independent augmentations of the same image.
    min_stored_views: ClassVar[int] = 1

    def __init__(self, backbone: nn.Module, config: StrictModel) -> None:
        super().__init__()
        feature_dim = getattr(backbone, "feature_dim", None)
        if not isinstance(feature_dim, int):
            raise ValueError(f"the backbone must have an integer `feature_dim` attribute, got {feature_dim!r}")
        self.config = config
        self.backbone = backbone
        self.head = self._build_head(feature_dim)

    def _build_head(self, feature_dim: int) -> nn.Module:
        """The module on top of the backbone's features (the projection head); exports leave it out."""
        return ProjectionHead(feature_dim, self.config.head)

    def _check_views(self, views: Tensor, labels: Tensor | None) -> None:
        expected = self.config.views
        if views.ndim != 5 or views.shape[1] != expected:
            raise ValueError(
                f"{self.config.name} expects views of shape (B, {expected}, C, H, W), got {tuple(views.shape)}"
            )
        if self.needs_labels and labels is None:
            raise ValueError(
                f"{self.config.name} needs a class label per sample (the corpus's `cls` field), got labels=None"
            )

    def embed(self, views: Tensor) -> Tensor:
        """Normalised head outputs (B, V, D); all B*V views go through the backbone as one batch."""
        b, v = views.shape[:2]
        z = self.head(self.backbone(views.flatten(0, 1)))
        return F.normalize(_at_least_float32(z), dim=-1).reshape(b, v, -1)


class SimCLR(Method):
    """SimCLR. Metrics: `acc`, the fraction of views whose nearest embedding is their other view."""

    def forward(self, views: Tensor, labels: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        self._check_views(views, labels)
        loss, accuracy = _nt_xent(self.embed(views), self.config.temperature)
        return loss, {"acc": accuracy}


class MultiPositive(Method):
    """StableRep's multi-positive contrastive method. Metrics: `acc`, the fraction of views whose nearest
    embedding is another view of their group."""

    min_stored_views: ClassVar[int] = 2

    def forward(self, views: Tensor, labels: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        self._check_views(views, labels)
        loss, accuracy = _multi_positive(self.embed(views), self.config.temperature)
        return loss, {"acc": accuracy}


class SupCon(Method):
    """Supervised contrastive method. Metrics: `acc`, the fraction of views whose nearest embedding has
    their label."""

    needs_labels: ClassVar[bool] = True

    def forward(self, views: Tensor, labels: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        self._check_views(views, labels)
        loss, accuracy = _supcon(self.embed(views), labels, self.config.temperature)
        return loss, {"acc": accuracy}


class AlignUniform(Method):
    """Alignment + uniformity on the normalised head output. Metrics: the `align` and `uniform` terms."""

    def forward(self, views: Tensor, labels: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        self._check_views(views, labels)
        c = self.config
        loss, align, uniform = _align_uniform(self.embed(views), c.alpha, c.t, c.align_weight, c.uniform_weight)
        return loss, {"align": align, "uniform": uniform}


class Supervised(Method):
    """Cross-entropy with label smoothing on the `cls` labels: the FDSL recipe (FractalDB, VisualAtom).

    The head is a classifier (`ClassifierHeadConfig`, one Linear by default) with `total_classes`
    outputs; every view of a sample is a training example with the sample's label. Labels must lie
    in [0, total_classes): the data loader checks them against each corpus's count (a label out of
    range would be an IndexError on the CPU, a device-side assert on CUDA). In DDP each rank's loss
    is the mean over its examples and DDP averages the gradients: the mean over the global batch.

    Metrics: `acc`, the top-1 accuracy of the head on the (augmented) training batch.
    """

    needs_labels: ClassVar[bool] = True

    def _build_head(self, feature_dim: int) -> nn.Module:
        classes = self.config.total_classes
        if classes is None:
            raise ValueError("supervised needs the number of classes: set method.classes")
        head = self.config.head
        return ProjectionHead(feature_dim, HeadConfig(hidden=head.hidden, out=classes, layers=head.layers))

    def forward(self, views: Tensor, labels: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        self._check_views(views, labels)
        assert labels is not None  # _check_views refuses None for a method that needs labels
        if labels.shape != (views.shape[0],):
            raise ValueError(
                f"supervised needs one label per sample, shape ({views.shape[0]},), got {tuple(labels.shape)}"
            )
        logits = _at_least_float32(self.head(self.backbone(views.flatten(0, 1))))
        targets = labels.to(logits.device).repeat_interleave(views.shape[1])  # view-major rows, as embed
        loss = F.cross_entropy(logits, targets, label_smoothing=self.config.label_smoothing)
        accuracy = (logits.argmax(dim=1) == targets).float().mean().detach()
        return loss, {"acc": accuracy}


class MoCoV2(Method):
    """MoCo v2: a query encoder (backbone + head) trained against keys from a momentum encoder.

    - The momentum encoder is a deep copy of backbone + head made at construction (load pretrained
      weights into the backbone before building the method), never trained by gradient: each training
      forward first moves it towards the query encoder by EMA, `k = m * k + (1 - m) * q`, under no_grad.
    - Query = view 0 through the query encoder; key = view 1 through the momentum encoder. With
      `symmetric`, also view 1's query against view 0's key, the two losses averaged (so the loss keeps
      its scale), and both sets of keys are enqueued.
    - Negatives: a queue of `queue_size` normalised keys, a buffer (as is its write pointer), so the
      state_dict holds it and a resumed run continues exactly. After the loss, this step's keys (in DDP,
      all ranks' keys, all-gathered, in rank order) overwrite the oldest entries; the pointer wraps
      around, so the queue size need not be a multiple of the batch size, but one step's keys must fit
      in the queue. The queue starts as random unit vectors, as in the original.
    - No shuffle-BN: the key encoder's BatchNorm sees this rank's batch unshuffled. Original MoCo
      shuffles keys across GPUs to stop BN statistics leaking which key matches; this implementation
      does not (use SyncBatchNorm or accept the small leak).
    - The momentum update and the enqueue happen only in training mode; in eval mode forward only
      computes the loss.

    Metrics: `acc`, the fraction of queries whose highest logit is their own key.
    """

    queue: Tensor
    queue_ptr: Tensor

    def __init__(self, backbone: nn.Module, config: MoCoV2Config) -> None:
        super().__init__(backbone, config)
        self.momentum_backbone = copy.deepcopy(self.backbone)
        self.momentum_head = copy.deepcopy(self.head)
        for param in self._momentum_params():
            param.requires_grad_(False)
        self.register_buffer("queue", F.normalize(torch.randn(config.queue_size, config.head.out), dim=1))
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))

    def _query_params(self) -> list[nn.Parameter]:
        return [*self.backbone.parameters(), *self.head.parameters()]

    def _momentum_params(self) -> list[nn.Parameter]:
        return [*self.momentum_backbone.parameters(), *self.momentum_head.parameters()]

    @torch.no_grad()
    def momentum_update(self) -> None:
        """k = m * k + (1 - m) * q for every parameter of the momentum encoder."""
        torch._foreach_lerp_(self._momentum_params(), self._query_params(), 1.0 - self.config.momentum)

    @torch.no_grad()
    def keys(self, images: Tensor) -> Tensor:
        """Normalised momentum-encoder embeddings of images (N, C, H, W) -> (N, D)."""
        return F.normalize(_at_least_float32(self.momentum_head(self.momentum_backbone(images))), dim=1)

    def queries(self, images: Tensor) -> Tensor:
        """Normalised query-encoder embeddings of images (N, C, H, W) -> (N, D)."""
        return F.normalize(_at_least_float32(self.head(self.backbone(images))), dim=1)

    @torch.no_grad()
    def enqueue(self, keys: Tensor) -> None:
        """Write keys (N, D) over the oldest queue entries, wrapping around, and advance the pointer."""
        keys = gather_no_grad(keys)
        size = self.queue.shape[0]
        if keys.shape[0] > size:
            raise ValueError(
                f"mocov2: {keys.shape[0]} keys per step (global batch) do not fit in a queue of {size}; "
                "raise queue_size or lower the batch size"
            )
        rows = (self.queue_ptr + torch.arange(keys.shape[0], device=keys.device)) % size
        self.queue[rows] = keys.to(self.queue.dtype)
        self.queue_ptr.copy_((self.queue_ptr + keys.shape[0]) % size)

    def _contrast(self, q: Tensor, k: Tensor) -> tuple[Tensor, Tensor]:
        """InfoNCE of queries (N, D) against their keys (N, D) and the queue; the positive is logit 0."""
        q, k = _at_least_float32(q), _at_least_float32(k)
        positive = (q * k).sum(dim=1, keepdim=True)
        # A copy: the enqueue after the loss writes into the queue in place, which would invalidate the
        # tensor autograd saved for the backward of this product.
        with _no_autocast(q):
            negative = q @ self.queue.to(q.dtype, copy=True).T
        logits = torch.cat([positive, negative], dim=1) / self.config.temperature
        target = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
        accuracy = (logits.argmax(dim=1) == 0).float().mean().detach()
        return F.cross_entropy(logits, target), accuracy

    def forward(self, views: Tensor, labels: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        self._check_views(views, labels)
        if self.training:
            self.momentum_update()
        if self.config.symmetric:
            # Both views are queries and both are keys: one batch of 2B through each encoder.
            b = views.shape[0]
            q = self.queries(views.flatten(0, 1)).reshape(b, 2, -1)
            k = self.keys(views.flatten(0, 1)).reshape(b, 2, -1)
            loss_01, acc_01 = self._contrast(q[:, 0], k[:, 1])
            loss_10, acc_10 = self._contrast(q[:, 1], k[:, 0])
            loss, accuracy = (loss_01 + loss_10) / 2, (acc_01 + acc_10) / 2
            new_keys = torch.cat([k[:, 1], k[:, 0]])
        else:
            q = self.queries(views[:, 0])
            new_keys = self.keys(views[:, 1])
            loss, accuracy = self._contrast(q, new_keys)
        if self.training:
            self.enqueue(new_keys)
        return loss, {"acc": accuracy}


METHODS: dict[str, type[Method]] = {
    "simclr": SimCLR,
    "mocov2": MoCoV2,
    "multipos": MultiPositive,
    "supcon": SupCon,
    "alignuniform": AlignUniform,
    "supervised": Supervised,
}


def build_method(backbone: nn.Module, config: MethodConfig) -> Method:
    """The method module named by `config.name`, wrapping `backbone` (which needs a `feature_dim`)."""
    return METHODS[config.name](backbone, config)
