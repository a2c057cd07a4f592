"""Linear and kNN probes on synthetic features whose answer is known."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from synthgen.evaluate.probes import knn_probe, linear_probe

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def clustered(n: int, dim: int, classes: int, spread: float, seed: int, means: torch.Tensor | None = None):
    """Features around one random mean per class; labels balanced and shuffled."""
    gen = torch.Generator().manual_seed(seed)
    if means is None:
        means = torch.randn(classes, dim, generator=gen) * spread
    labels = torch.randperm(n, generator=gen) % classes
    return means[labels] + torch.randn(n, dim, generator=gen), labels, means


@pytest.fixture(scope="module")
def separable():
    train_x, train_y, means = clustered(1000, 32, 10, 3.0, seed=0)
    val_x, val_y, _ = clustered(500, 32, 10, 3.0, seed=1, means=means)
    return train_x, train_y, val_x, val_y


def without_timings(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("fit_seconds", "seconds")}


def test_linear_probe_separates_clustered_features(separable):
    result = linear_probe(*separable, num_classes=10)
    assert result["top1"] >= 0.98
    assert result["top5"] >= result["top1"]
    assert result["n_train"] == 1000 and result["n_val"] == 500 and result["feature_dim"] == 32
    decays = [point["weight_decay"] for point in result["held_out"]]
    assert decays == sorted(decays) and len(decays) == 6 and result["weight_decay"] in decays
    json.dumps(result)  # plain JSON-able values only


def test_knn_probe_separates_clustered_features(separable):
    result = knn_probe(*separable, num_classes=10, ks=(20, 200))
    assert set(result["by_k"]) == {"20", "200"}
    for scores in result["by_k"].values():
        assert scores["top1"] >= 0.98 and scores["top5"] >= scores["top1"]
    json.dumps(result)


def test_random_labels_stay_near_chance():
    gen = torch.Generator().manual_seed(3)
    train_x, val_x = torch.randn(1000, 32, generator=gen), torch.randn(500, 32, generator=gen)
    train_y, val_y = torch.randint(0, 10, (1000,), generator=gen), torch.randint(0, 10, (500,), generator=gen)
    linear = linear_probe(train_x, train_y, val_x, val_y, num_classes=10, weight_decays=(1e-3, 1e-1))
    knn = knn_probe(train_x, train_y, val_x, val_y, num_classes=10, ks=(20,))
    assert linear["top1"] < 0.2
    assert knn["by_k"]["20"]["top1"] < 0.2
    assert 0.35 < linear["top5"] < 0.65  # chance is 0.5


def test_tiny_noisy_train_prefers_strong_decay():
    # Few samples for their dimension, a weak signal spread over all dimensions, a fifth of the
    # labels wrong: unpenalised fits chase the noise, a strong penalty keeps to the class means.
    train_x, train_y, means = clustered(200, 100, 2, 0.15, seed=5)
    val_x, val_y, _ = clustered(1000, 100, 2, 0.15, seed=6, means=means)
    gen = torch.Generator().manual_seed(0)
    flip = torch.rand(200, generator=gen) < 0.2
    train_y = torch.where(flip, torch.randint(0, 2, (200,), generator=gen), train_y)
    result = linear_probe(train_x, train_y, val_x, val_y, num_classes=2, seed=0)
    curve = {point["weight_decay"]: point["top1"] for point in result["held_out"]}
    assert len(curve) == 6
    assert result["weight_decay"] >= 1e-2
    assert curve[result["weight_decay"]] == max(curve.values())
    assert curve[result["weight_decay"]] > curve[min(curve)] + 0.1


def test_probes_are_deterministic(separable):
    train_x, train_y, val_x, val_y = separable
    noisy = train_y.clone()
    noisy[::3] = (noisy[::3] + 1) % 10  # label noise, so that the choice of decay is not trivial
    first = linear_probe(train_x, noisy, val_x, val_y, num_classes=10, seed=4, max_iter=30)
    again = linear_probe(train_x.clone(), noisy.clone(), val_x, val_y, num_classes=10, seed=4, max_iter=30)
    assert without_timings(first) == without_timings(again)
    assert without_timings(knn_probe(*separable, num_classes=10)) == without_timings(
        knn_probe(*separable, num_classes=10)
    )


def test_knn_k_larger_than_train_is_clipped():
    train_x, train_y, means = clustered(30, 8, 3, 4.0, seed=7)
    val_x, val_y, _ = clustered(20, 8, 3, 4.0, seed=8, means=means)
    result = knn_probe(train_x, train_y, val_x, val_y, num_classes=3, ks=(5, 1000), batch_size=7)
    assert result["by_k"]["5"]["k_used"] == 5
    assert result["by_k"]["1000"]["k_used"] == 30
    assert result["by_k"]["5"]["top1"] >= 0.9
    assert result["by_k"]["1000"]["top5"] == 1.0  # 3 classes: top-5 is always right


def test_knn_matches_a_direct_computation():
    gen = torch.Generator().manual_seed(9)
    train_x, val_x = torch.randn(200, 16, generator=gen), torch.randn(50, 16, generator=gen)
    train_y, val_y = torch.randint(0, 7, (200,), generator=gen), torch.randint(0, 7, (50,), generator=gen)
    result = knn_probe(train_x, train_y, val_x, val_y, num_classes=7, ks=(10,), temperature=0.1, batch_size=16)

    a = train_x.numpy() / np.linalg.norm(train_x.numpy(), axis=1, keepdims=True)
    b = val_x.numpy() / np.linalg.norm(val_x.numpy(), axis=1, keepdims=True)
    top1 = top5 = 0
    for row, label in zip(b @ a.T, val_y.numpy(), strict=True):
        nearest = np.argsort(-row)[:10]
        votes = np.zeros(7)
        np.add.at(votes, train_y.numpy()[nearest], np.exp(row[nearest] / 0.1))
        top1 += int(np.argmax(votes) == label)
        top5 += int(label in np.argsort(-votes)[:5])
    assert result["by_k"]["10"]["top1"] == pytest.approx(top1 / 50)
    assert result["by_k"]["10"]["top5"] == pytest.approx(top5 / 50)


def test_few_classes_report_top5_as_one_and_single_decay_skips_selection():
    train_x, train_y, means = clustered(100, 8, 4, 0.5, seed=10)
    val_x, val_y, _ = clustered(100, 8, 4, 0.5, seed=11, means=means)
    result = linear_probe(train_x, train_y, val_x, val_y, num_classes=4, weight_decays=(1e-3,))
    assert result["top5"] == 1.0
    assert result["weight_decay"] == 1e-3 and result["held_out"] == [] and result["held_out_fraction"] == 0.0


def test_bad_inputs_are_refused():
    x, y = torch.randn(10, 4), torch.arange(10) % 3
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        linear_probe(x, y, x, y, num_classes=2)
    with pytest.raises(ValueError, match="dimensions"):
        knn_probe(x, y, torch.randn(10, 5), y, num_classes=3)
    with pytest.raises(ValueError, match="expected features"):
        knn_probe(x, y[:5], x, y, num_classes=3)
