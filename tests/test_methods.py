"""Self-supervised losses and method modules, on tiny embeddings and a tiny stand-in backbone."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from pydantic import TypeAdapter, ValidationError
from torch import nn

from synthgen.train.methods import (
    AlignUniformConfig,
    HeadConfig,
    MethodConfig,
    MoCoV2,
    MoCoV2Config,
    MultiPositiveConfig,
    SimCLRConfig,
    SupConConfig,
    align_uniform,
    build_method,
    multi_positive,
    nt_xent,
    supcon,
)

SMALL_HEAD = HeadConfig(hidden=16, out=8)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


class TinyBackbone(nn.Module):
    """Stand-in for a real backbone: (N, 3, H, W) -> (N, feature_dim)."""

    feature_dim = 8

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def unit(*shape: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(*shape, generator=generator, dtype=torch.float64), dim=-1)


# ---------------------------------------------------------------------------------------------
# Slow references, written straight from the papers' formulas
# ---------------------------------------------------------------------------------------------


def reference_contrastive(z: torch.Tensor, same: list[list[bool]], temperature: float) -> float:
    """mean_i -1/|P(i)| sum_{p in P(i)} log(exp(s_ip / T) / sum_{a != i} exp(s_ia / T)), loops only."""
    rows = z.reshape(-1, z.shape[-1]).tolist()
    n = len(rows)
    total = 0.0
    for i in range(n):
        sims = [sum(a * b for a, b in zip(rows[i], rows[j], strict=True)) / temperature for j in range(n)]
        denominator = sum(math.exp(sims[a]) for a in range(n) if a != i)
        positives = [p for p in range(n) if p != i and same[i][p]]
        total += -sum(math.log(math.exp(sims[p]) / denominator) for p in positives) / len(positives)
    return total / n


def groups_of(batch: int, views: int) -> list[int]:
    return [i // views for i in range(batch * views)]


def same_matrix(ids: list[int]) -> list[list[bool]]:
    return [[a == b for b in ids] for a in ids]


# ---------------------------------------------------------------------------------------------
# Loss functions
# ---------------------------------------------------------------------------------------------


def test_hand_made_case():
    # Two samples, two identical views each, orthogonal samples, T = 1: each anchor's positive has
    # similarity 1 and its two negatives 0.
    z = torch.tensor([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]])
    expected = math.log(1 + 2 / math.e)  # -log(e / (e + 1 + 1))
    assert nt_xent(z, 1.0).item() == pytest.approx(expected, abs=1e-6)
    assert multi_positive(z, 1.0).item() == pytest.approx(expected, abs=1e-6)
    # Same label for both samples: all three others are positives, -1/3 (1 - 3 log(e + 2)).
    assert supcon(z, torch.tensor([0, 0]), 1.0).item() == pytest.approx(math.log(math.e + 2) - 1 / 3, abs=1e-6)
    # Views identical: alignment 0; per view, the two samples are at squared distance 2: log exp(-2 * 2).
    assert align_uniform(z).item() == pytest.approx(-4.0, abs=1e-6)


@pytest.mark.parametrize("views", [2, 3, 4])
def test_losses_match_slow_reference(views):
    z = unit(3, views, 5, seed=views)
    groups = groups_of(3, views)
    expected = reference_contrastive(z, same_matrix(groups), 0.5)
    assert multi_positive(z, 0.5).item() == pytest.approx(expected, rel=1e-9)
    labels = torch.tensor([1, 0, 1])
    label_ids = [int(labels[g]) for g in groups]
    assert supcon(z, labels, 0.5).item() == pytest.approx(reference_contrastive(z, same_matrix(label_ids), 0.5))
    if views == 2:
        assert nt_xent(z, 0.5).item() == pytest.approx(expected, rel=1e-9)


def test_align_uniform_matches_reference():
    z = unit(5, 2, 4, seed=3)
    x, y = z[:, 0], z[:, 1]
    align = (x - y).norm(dim=1).pow(2).mean()
    uniform = sum(torch.pdist(v).pow(2).mul(-2).exp().mean().log() for v in (x, y)) / 2
    assert align_uniform(z).item() == pytest.approx((align + uniform).item(), rel=1e-9)
    weighted = align_uniform(z, alpha=1.0, t=3.0, align_weight=0.5, uniform_weight=2.0)
    align1 = (x - y).norm(dim=1).mean()
    uniform3 = sum(torch.pdist(v).pow(2).mul(-3).exp().mean().log() for v in (x, y)) / 2
    assert weighted.item() == pytest.approx((0.5 * align1 + 2.0 * uniform3).item(), rel=1e-9)


def test_identities():
    z2 = unit(6, 2, 7, seed=1)
    distinct = torch.arange(6)
    assert multi_positive(z2, 0.1).item() == pytest.approx(nt_xent(z2, 0.1).item(), rel=1e-12)
    assert supcon(z2, distinct, 0.1).item() == pytest.approx(nt_xent(z2, 0.1).item(), rel=1e-12)
    z4 = unit(6, 4, 7, seed=2)
    assert supcon(z4, distinct, 0.2).item() == pytest.approx(multi_positive(z4, 0.2).item(), rel=1e-12)


def test_gradients_are_finite():
    z = unit(4, 3, 5).requires_grad_(True)
    (multi_positive(z, 0.1) + supcon(z, torch.tensor([0, 0, 1, 1]), 0.1)).backward()
    assert torch.isfinite(z.grad).all()
    z = unit(4, 2, 5).requires_grad_(True)
    (nt_xent(z, 0.1) + align_uniform(z)).backward()
    assert torch.isfinite(z.grad).all()


def test_loss_argument_errors():
    with pytest.raises(ValueError, match="exactly 2 views"):
        nt_xent(unit(3, 3, 4), 0.1)
    with pytest.raises(ValueError, match="at least 2 views"):
        multi_positive(unit(3, 1, 4), 0.1)
    with pytest.raises(ValueError, match="needs a class label"):
        supcon(unit(3, 2, 4), None, 0.1)
    with pytest.raises(ValueError, match="one label per sample"):
        supcon(unit(3, 2, 4), torch.arange(6), 0.1)


# ---------------------------------------------------------------------------------------------
# Configs and modules
# ---------------------------------------------------------------------------------------------


def test_configs_discriminated_by_name():
    adapter = TypeAdapter(MethodConfig)
    assert isinstance(adapter.validate_python({"name": "simclr"}), SimCLRConfig)
    moco = adapter.validate_python({"name": "mocov2"})
    assert (moco.temperature, moco.queue_size, moco.momentum, moco.symmetric) == (0.2, 65536, 0.999, False)
    multipos = adapter.validate_python({"name": "multipos"})
    assert (multipos.views, multipos.head.hidden, multipos.head.out, multipos.head.layers) == (4, 2048, 128, 2)
    with pytest.raises(ValidationError):
        adapter.validate_python({"name": "multipos", "views": 1})
    with pytest.raises(ValidationError):
        adapter.validate_python({"name": "simclr", "views": 3})
    with pytest.raises(ValidationError):
        adapter.validate_python({"name": "simclr", "temprature": 0.1})
    with pytest.raises(ValidationError):
        adapter.validate_python({"name": "byol"})


def test_class_attributes_and_head():
    assert [build_method(TinyBackbone(), c).needs_labels for c in (SimCLRConfig(), SupConConfig())] == [False, True]
    assert build_method(TinyBackbone(), MultiPositiveConfig()).min_stored_views == 2
    assert build_method(TinyBackbone(), SimCLRConfig()).min_stored_views == 1
    backbone = TinyBackbone()
    method = build_method(backbone, SimCLRConfig(head=HeadConfig(hidden=16, out=4, layers=3)))
    assert method.backbone is backbone
    kinds = [type(m).__name__ for m in method.head]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear"]
    linear = build_method(TinyBackbone(), SimCLRConfig(head=HeadConfig(out=4, layers=1)))
    assert [type(m).__name__ for m in linear.head] == ["Linear"]


def test_forward_checks_views_and_labels():
    method = build_method(TinyBackbone(), MultiPositiveConfig(views=3, head=SMALL_HEAD))
    with pytest.raises(ValueError, match=r"\(B, 3, C, H, W\)"):
        method(torch.rand(4, 2, 3, 8, 8))
    supcon_method = build_method(TinyBackbone(), SupConConfig(head=SMALL_HEAD))
    with pytest.raises(ValueError, match="needs a class label"):
        supcon_method(torch.rand(4, 2, 3, 8, 8), None)


def make_batch(views: int, batch: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(batch, 1, 3, 8, 8, generator=generator)
    # Views of a sample: its image plus a little noise, so that they are learnably alike.
    views_ = images + 0.1 * torch.randn(batch, views, 3, 8, 8, generator=generator)
    return views_, torch.arange(batch) % 3


@pytest.mark.parametrize(
    "config",
    [
        SimCLRConfig(head=SMALL_HEAD, temperature=0.5),
        MoCoV2Config(head=SMALL_HEAD, queue_size=12, temperature=0.5),
        MoCoV2Config(head=SMALL_HEAD, queue_size=12, temperature=0.5, symmetric=True),
        MultiPositiveConfig(head=SMALL_HEAD, views=3, temperature=0.5),
        SupConConfig(head=SMALL_HEAD, temperature=0.5),
        AlignUniformConfig(head=SMALL_HEAD),
    ],
    ids=lambda c: c.name + ("-symmetric" if getattr(c, "symmetric", False) else ""),
)
def test_loss_decreases(config):
    torch.manual_seed(0)
    method = build_method(TinyBackbone(), config)
    optimizer = torch.optim.SGD([p for p in method.parameters() if p.requires_grad], lr=0.1, momentum=0.9)
    views, labels = make_batch(config.views)
    losses = []
    for _ in range(20):
        loss, metrics = method(views, labels)
        assert all(isinstance(v, torch.Tensor) and v.ndim == 0 and not v.requires_grad for v in metrics.values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    # MoCo's loss first rises while the random initial queue fills up with keys of this very batch
    # (hard negatives): compare with the first step whose queue holds only those.
    start = 0
    if config.name == "mocov2":
        start = config.queue_size // (len(views) * (2 if config.symmetric else 1))
    assert sum(losses[-3:]) / 3 < losses[start] - 0.05, losses


# ---------------------------------------------------------------------------------------------
# MoCo
# ---------------------------------------------------------------------------------------------


def moco(queue_size: int, **kwargs) -> MoCoV2:
    torch.manual_seed(0)
    return build_method(TinyBackbone(), MoCoV2Config(head=SMALL_HEAD, queue_size=queue_size, **kwargs))


def test_moco_enqueues_keys_and_wraps_around():
    method = moco(queue_size=10)
    assert method.queue.shape == (10, 8)
    assert torch.allclose(method.queue.norm(dim=1), torch.ones(10))
    batches = [make_batch(2, batch=4, seed=s)[0] for s in range(3)]

    method(batches[0])
    with torch.no_grad():  # train-mode BN on the same batch: the very keys the forward computed
        keys = method.keys(batches[0][:, 1])
    assert torch.allclose(method.queue[:4], keys, atol=1e-6)
    assert torch.allclose(keys.norm(dim=1), torch.ones(4))
    assert int(method.queue_ptr) == 4

    method(batches[1])
    assert int(method.queue_ptr) == 8
    before = method.queue.clone()
    method(batches[2])  # rows 8, 9, then 0, 1
    with torch.no_grad():
        keys = method.keys(batches[2][:, 1])
    assert int(method.queue_ptr) == 2
    assert torch.allclose(method.queue[[8, 9, 0, 1]], keys, atol=1e-6)
    assert torch.equal(method.queue[2:8], before[2:8])


def test_moco_symmetric_enqueues_both_views():
    method = moco(queue_size=20, symmetric=True)
    views = make_batch(2, batch=4)[0]
    method(views)
    assert int(method.queue_ptr) == 8
    with torch.no_grad():
        keys = method.keys(views.flatten(0, 1)).reshape(4, 2, -1)
    assert torch.allclose(method.queue[:8], torch.cat([keys[:, 1], keys[:, 0]]), atol=1e-6)


def test_moco_refuses_more_keys_than_queue():
    with pytest.raises(ValueError, match="do not fit in a queue of 3"):
        moco(queue_size=3)(make_batch(2, batch=4)[0])


def test_moco_momentum_encoder_is_ema_without_gradient():
    method = moco(queue_size=16, momentum=0.9)
    query = dict(method.backbone.named_parameters()) | {f"h{k}": v for k, v in method.head.named_parameters()}
    momentum = dict(method.momentum_backbone.named_parameters()) | {
        f"h{k}": v for k, v in method.momentum_head.named_parameters()
    }
    assert all(not p.requires_grad for p in momentum.values())
    assert all(torch.equal(query[k], momentum[k]) for k in query)  # a copy at construction

    optimizer = torch.optim.SGD([p for p in method.parameters() if p.requires_grad], lr=0.5)
    views = make_batch(2, batch=4)[0]
    loss, _ = method(views)
    loss.backward()
    assert all(p.grad is None for p in momentum.values())
    optimizer.step()
    before = {k: v.clone() for k, v in momentum.items()}
    method(views)  # the update happens first thing in forward
    for k in query:
        assert torch.allclose(momentum[k], 0.9 * before[k] + 0.1 * query[k].detach(), atol=1e-6), k
    assert any(not torch.equal(momentum[k], before[k]) for k in query)

    # Eval mode: no momentum update, no enqueue.
    method.eval()
    state = {k: v.clone() for k, v in method.state_dict().items()}
    method(views)
    assert all(torch.equal(state[k], v) for k, v in method.state_dict().items())


def test_moco_state_dict_resumes_exactly(tmp_path):
    method = moco(queue_size=10)
    views = [make_batch(2, batch=4, seed=s)[0] for s in range(3)]
    method(views[0])
    torch.save(method.state_dict(), tmp_path / "m.pt")
    resumed = moco(queue_size=10)
    resumed.load_state_dict(torch.load(tmp_path / "m.pt", weights_only=True))
    assert int(resumed.queue_ptr) == 4
    for batch in views[1:]:
        loss_a, _ = method(batch)
        loss_b, _ = resumed(batch)
        assert loss_a.item() == loss_b.item()
    assert torch.equal(method.queue, resumed.queue)
