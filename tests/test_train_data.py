"""The training loader: corpora found, shards split over ranks and workers, batches reproducible."""

from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path

import pytest
import torch

from synthgen.corpus.tar import ShardWriter, iter_tar_samples
from synthgen.train.data import (
    DataError,
    ShardStream,
    SkipCounts,
    ViewPolicy,
    corpus_samples,
    make_loader,
    open_corpus,
    parse_data_spec,
)
from tests.test_integrity import rebless

POLICY = ViewPolicy(views=2, distinct=True, size=(32, 32), needs_labels=False)


def test_a_corpus_folder_and_a_brace_pattern_find_the_same_shards(shader_corpus: Path, tmp_path: Path):
    corpus = open_corpus(str(shader_corpus))
    assert len(corpus.shard_urls) == 3 and corpus.nsamples == 20
    assert corpus.stored_views == 2 and corpus.has_labels and corpus.image_size == (32, 32)
    pattern = open_corpus(f"{shader_corpus}/shard-{{000000..000002}}.tar")
    assert pattern.nsamples == 20 and len(pattern.shard_urls) == 3
    # Without sidecars beside the shards, the pattern's samples are counted by reading them.
    for tar in shader_corpus.glob("*.tar"):
        shutil.copy(tar, tmp_path / tar.name)
    assert open_corpus(f"{tmp_path}/shard-{{000000..000002}}.tar").nsamples == 20


def test_data_specs_carry_weights():
    assert parse_data_spec("out/demo@0.25") == ("out/demo", 0.25)
    assert parse_data_spec("s3://bucket/corpus") == ("s3://bucket/corpus", 1.0)
    assert parse_data_spec("http://user@host/corpus") == ("http://user@host/corpus", 1.0)
    with pytest.raises(DataError, match="must be > 0"):
        parse_data_spec("out/demo@0")


def test_a_missing_corpus_is_one_clear_error(tmp_path: Path):
    with pytest.raises(Exception, match="no corpus here"):
        open_corpus(str(tmp_path / "nothing"))
    with pytest.raises(DataError, match="no such shard"):
        open_corpus(f"{tmp_path}/shard-{{000000..000001}}.tar")


@pytest.mark.parametrize("nslots", [2, 3, 5])  # by shard (2, 3 slots for 3 shards) and by sample (5 slots)
def test_slots_share_each_pass_without_overlap(shader_corpus: Path, nslots: int):
    corpus = open_corpus(str(shader_corpus))
    seen: list[str] = []
    for slot in range(nslots):
        samples = corpus_samples(corpus, slot, nslots, seed=3, counts=SkipCounts(), options={}, passes=1)
        keys = [sample["__key__"] for sample in samples]
        assert keys, f"slot {slot} got nothing"
        seen += keys
    assert sorted(seen) == [f"{i:012d}" for i in range(20)]


def _batches(corpus_dir: Path, count: int, workers: int = 0, **kwargs) -> list[dict]:
    stream = ShardStream([open_corpus(str(corpus_dir))], POLICY, 4, seed=5, shuffle_buffer=8, **kwargs)
    loader = iter(make_loader(stream, workers))
    return [next(loader) for _ in range(count)]


def test_batches_hold_views_and_labels(shader_corpus: Path):
    batch = _batches(shader_corpus, 1)[0]
    assert batch["images"].shape == (4, 2, 3, 32, 32) and batch["images"].dtype == torch.uint8
    assert batch["labels"].dtype == torch.int64 and set(batch["labels"].tolist()) <= {0, 1, 2}
    # Two stored views of a sample: the positives are different renders.
    assert not torch.equal(batch["images"][:, 0], batch["images"][:, 1])
    same = ShardStream([open_corpus(str(shader_corpus))], POLICY.__class__(2, False, (24, 24), False), 4)
    first = next(iter(make_loader(same, 0)))["images"]
    assert first.shape == (4, 2, 3, 24, 24) and torch.equal(first[:, 0], first[:, 1])


def test_the_stream_is_endless_and_reproducible(shader_corpus: Path):
    one = _batches(shader_corpus, 12)  # 48 samples: more than two passes over 20
    two = _batches(shader_corpus, 12)
    assert all(torch.equal(a["images"], b["images"]) for a, b in zip(one, two, strict=True))


@pytest.mark.parametrize("workers", [0, 2])
def test_skipping_batches_resumes_the_same_stream(shader_corpus: Path, workers: int):
    full = _batches(shader_corpus, 7, workers=workers)
    resumed = _batches(shader_corpus, 4, workers=workers, skip_batches=3)
    for a, b in zip(full[3:], resumed, strict=True):
        assert torch.equal(a["images"], b["images"]) and torch.equal(a["labels"], b["labels"])


def test_damaged_shards_and_samples_are_skipped_and_counted(shader_corpus: Path, tmp_path: Path, capsys, caplog):
    damaged = tmp_path / "damaged"
    shutil.copytree(shader_corpus, damaged)
    tar = damaged / "shard-000001.tar"
    tar.write_bytes(tar.read_bytes()[:3000])  # truncated mid-member
    with (damaged / "shard-000002.tar").open("wb") as stream:  # same sample count, two bad samples
        writer = ShardWriter(stream)
        good = next(iter(open_corpus(str(shader_corpus)).shard_urls))
        with open(good, "rb") as source:
            samples = list(iter_tar_samples(source))[:4]
        samples[0] = {**samples[0], "png": b"not an image"}
        samples[1] = {k: v for k, v in samples[1].items() if k != "png"}
        for sample in samples:
            writer.write(sample)
        writer.close()
    for name in ("shard-000001.tar", "shard-000002.tar"):  # damage from before they were hashed
        rebless(damaged, name)  # (shards that differ from the manifest: tests/test_integrity.py)
    with caplog.at_level(logging.WARNING, logger="synthgen.train.data"):
        batches = _batches(damaged, 10)
    assert sum(b["bad_samples"] for b in batches) >= 2
    assert sum(b["bad_shards"] for b in batches) >= 1
    assert all(b["images"].shape[0] == 4 for b in batches)
    # Warnings are log records (the command shows them as `warning: ...`), not prints.
    warned = [r.getMessage() for r in caplog.records if r.name == "synthgen.train.data" and r.levelname == "WARNING"]
    assert any(m.startswith(f"skipping the rest of {tar}: ") for m in warned), warned
    assert sum(m.startswith("skipping sample ") for m in warned) >= 2, warned
    assert "skipping" not in capsys.readouterr().err


def test_a_corpus_with_nothing_readable_stops_with_an_error(tmp_path: Path):
    folder = tmp_path / "bad"
    folder.mkdir()
    with (folder / "shard-000000.tar").open("wb") as stream:
        writer = ShardWriter(stream)
        writer.write({"__key__": "000000000000", "png": _png()})
        writer.close()
    corpus = open_corpus(f"{folder}/shard-000000.tar")
    (folder / "shard-000000.tar").write_bytes(b"garbage" * 100)
    with pytest.raises(DataError, match="no readable sample"):
        next(corpus_samples(corpus, 0, 1, 0, SkipCounts(), {}))


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(buffer, format="PNG")
    return buffer.getvalue()
