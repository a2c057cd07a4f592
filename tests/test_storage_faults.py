"""Object storage faults between synthgen and an S3 server (moto on 127.0.0.1): connection resets,
500s, throttling, slow answers and lost writes, injected by a proxy. Renders retry and finish
with the clean render's bytes; a store that keeps failing gives one clear error; nothing
incomplete is ever committed."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

from synthgen.corpus import storage
from synthgen.corpus.lock import LOCK_NAME
from synthgen.corpus.push import push_corpus
from synthgen.errors import StorageError
from synthgen.recipe import Recipe, load_recipe
from synthgen.render import render_corpus

from .s3_fault_proxy import FAULT_KINDS, FaultProxy, random_faults
from .test_faults import committed_shards_are_whole
from .test_storage import local_bytes, remote_bytes

pytestmark = pytest.mark.slow


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "RETRY_DELAYS", (0.05, 0.1, 0.2, 0.4, 0.8))


@pytest.fixture
def eight_shards(make_recipe, tmp_path: Path) -> tuple[Recipe, Path]:
    """A recipe of 8 shards, and its clean local render to compare with."""
    recipe = load_recipe(make_recipe(count=40, shard={"samples": 5}, image={"format": "jpg"}))
    render_corpus(recipe, str(tmp_path / "clean"))
    return recipe, tmp_path / "clean"


def test_a_render_through_a_faulty_link_finishes_with_the_clean_bytes(eight_shards, s3_bucket, quick_retries):
    bucket, options = s3_bucket
    recipe, clean = eight_shards
    url = f"s3://{bucket}/corpus"
    with FaultProxy(options["endpoint_url"], random_faults(0.25, seed=7), slow_seconds=0.2) as proxy:
        summary = render_corpus(recipe, url, storage_options={"endpoint_url": proxy.url})
    assert summary.nshards == 8
    assert set(proxy.injected) == set(FAULT_KINDS), proxy.injected  # every kind of fault was met
    assert remote_bytes(url, options) == local_bytes(clean)
    print(f"faults injected: {dict(proxy.injected)} in {proxy.requests} requests")


def test_a_store_that_starts_failing_gives_a_clear_error_and_the_render_resumes(eight_shards, s3_bucket, quick_retries):
    bucket, options = s3_bucket
    recipe, clean = eight_shards
    url = f"s3://{bucket}/corpus"
    puts = []

    def fail_after_three_shards(method: str, path: str) -> str | None:
        if method == "PUT" and not path.endswith(LOCK_NAME):  # the destination's lock is not a shard
            puts.append(path)
        return "500" if len(puts) > 6 and not path.endswith(LOCK_NAME) else None  # a tar and a sidecar per shard

    with FaultProxy(options["endpoint_url"], fail_after_three_shards) as proxy:
        with pytest.raises(StorageError) as caught:
            render_corpus(recipe, url, storage_options={"endpoint_url": proxy.url})
    message = str(caught.value)
    assert message.startswith(f"{url}: cannot upload shard-000003.tar: ") and "\n" not in message
    assert "internal error" in message, message
    assert proxy.injected["500"] >= 3  # retried (by the S3 client here) before giving up
    assert committed_shards_are_whole(url, options) == 3
    fs, root = fsspec.core.url_to_fs(url, **options)
    assert not fs.exists(f"{root}/manifest.json")

    summary = render_corpus(recipe, url, storage_options=options)
    assert summary.nshards == 8
    assert remote_bytes(url, options) == local_bytes(clean)


def test_a_push_through_a_faulty_link_arrives_whole(eight_shards, s3_bucket, quick_retries):
    bucket, options = s3_bucket
    _, local = eight_shards
    url = f"s3://{bucket}/pushed"
    with FaultProxy(options["endpoint_url"], random_faults(0.3, seed=11), slow_seconds=0.2) as proxy:
        push_corpus(str(local), url, storage_options={"endpoint_url": proxy.url})
    assert sum(proxy.injected.values()) >= len(FAULT_KINDS), proxy.injected
    assert remote_bytes(url, options) == local_bytes(local)
    assert committed_shards_are_whole(url, options) == 8
    print(f"faults injected: {dict(proxy.injected)} in {proxy.requests} requests")
