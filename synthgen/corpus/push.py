"""Pushing a finished local corpus to a destination: what is there and identical is skipped, each
shard goes before its sidecar, and the manifest goes last, so an interrupted push resumes and the
destination never looks complete before it is."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from synthgen.corpus.format import MANIFEST_NAME, shard_sidecar_name
from synthgen.corpus.read import Corpus, load_manifest
from synthgen.corpus.storage import Destination, md5_of, same_content
from synthgen.errors import CorpusError

# Shards uploaded at once.
PARALLEL_UPLOADS = 8


@dataclass
class PushSummary:
    url: str
    uploaded: int = 0
    uploaded_bytes: int = 0
    skipped: int = 0

    def line(self) -> str:
        return (
            f"pushed to {self.url}: uploaded {self.uploaded} files ({self.uploaded_bytes:,} bytes), "
            f"{self.skipped} already there and identical"
        )


def push_corpus(
    local_url: str,
    remote_url: str,
    storage_options: dict[str, Any] | None = None,
    on_file: Callable[[str, int], None] | None = None,
) -> PushSummary:
    """Upload the complete corpus at `local_url` to `remote_url`; `on_file(name, bytes)` per file done."""
    local = Destination(local_url)
    if not local.is_local:
        raise CorpusError(f"{local_url}: push uploads a corpus from a local folder")
    if not local.exists(MANIFEST_NAME):
        raise CorpusError(f"{local_url}: not a complete corpus (no {MANIFEST_NAME}); finish the render first")
    # Corpus checks the manifest, and that it names only shard files of this folder: a name such as
    # `../secret.tar` would upload a file from outside the corpus to outside the destination.
    manifest = Corpus(local_url).manifest
    assert manifest is not None  # the folder has one: checked above
    remote = Destination(remote_url, storage_options)
    remote.check_usable()
    if remote.exists(MANIFEST_NAME):
        try:
            theirs = load_manifest(remote).recipe_sha256
        except CorpusError as err:
            raise CorpusError(f"{err}; push elsewhere") from None
        if theirs != manifest.recipe_sha256:
            raise CorpusError(f"{remote_url}: holds a corpus of another recipe (sha256 {theirs[:12]}); push elsewhere")
    summary = PushSummary(url=remote.url)
    lock = threading.Lock()
    there = remote.infos()  # one listing, rather than a request per file

    def push_file(name: str) -> None:
        path = local.path(name)
        size = local.size(name) or 0
        md5 = md5_of(path)
        copied = not same_content(there.get(name), size, md5)
        if copied:
            remote.upload(path, name, md5)
        with lock:
            summary.uploaded += copied
            summary.uploaded_bytes += size if copied else 0
            summary.skipped += not copied
            if on_file is not None:
                on_file(name, size)

    def push_shard(index: int, tar_name: str) -> None:
        push_file(tar_name)
        push_file(shard_sidecar_name(index))  # after its tar: a sidecar commits its shard

    # Shards go up concurrently (stores reward parallel requests); the manifest after all of them.
    with ThreadPoolExecutor(max_workers=PARALLEL_UPLOADS) as pool:
        futures = [pool.submit(push_shard, k, entry.url) for k, entry in enumerate(manifest.shardlist)]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    push_file(MANIFEST_NAME)
    return summary
