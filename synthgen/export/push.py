"""Pushing a finished local corpus to a destination: what is there and identical is skipped, each
shard goes before its sidecar, and the manifest goes last, so an interrupted push resumes and the
destination never looks complete before it is."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synthgen.errors import CorpusError
from synthgen.export.shards import MANIFEST_NAME
from synthgen.export.storage import Destination
from synthgen.plan import shard_sidecar_name


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
    manifest = json.loads(local.read_bytes(MANIFEST_NAME))
    remote = Destination(remote_url, storage_options)
    remote.check_usable()
    if remote.exists(MANIFEST_NAME):
        theirs = json.loads(remote.read_bytes(MANIFEST_NAME)).get("recipe_sha256")
        if theirs != manifest["recipe_sha256"]:
            raise CorpusError(
                f"{remote_url}: holds a corpus of another recipe (sha256 {str(theirs)[:12]}); push elsewhere"
            )
    names = []
    for index, entry in enumerate(manifest["shardlist"]):
        names += [entry["url"], shard_sidecar_name(index)]
    summary = PushSummary(url=remote.url)
    for name in [*names, MANIFEST_NAME]:
        path = local.path(name)
        size = local.size(name) or 0
        if remote.holds_copy_of(path, name):
            summary.skipped += 1
        else:
            remote.upload(path, name)
            summary.uploaded += 1
            summary.uploaded_bytes += size
        if on_file is not None:
            on_file(name, size)
    return summary
