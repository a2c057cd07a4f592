"""Pushing a finished local corpus to a destination: what is there and identical is skipped, each
shard goes before its sidecar, and the manifest goes last, so an interrupted push resumes and the
destination never looks complete before it is.

Only the corpus's own regular files go: a shard, sidecar or manifest that is a symlink (or not a
regular file) is refused before anything is uploaded, and so is one whose size differs from the
manifest. Each shard's sha256 is computed as it is read for the upload (with the MD5 the store's
check uses, in the same pass), and a shard that does not match the manifest is not uploaded: the
push stops there, without the manifest, so the destination never looks complete. A destination
holding files of another recipe is refused, as `render` refuses it, unless `overwrite`. The
dataset card (README.md) goes after the shards and before the manifest, and only synthgen's own
(corpus/card.py): a README.md the user wrote, here or there, is left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from synthgen.corpus.card import CARD_NAME, MAX_CARD_BYTES, is_synthgen_card
from synthgen.corpus.format import MANIFEST_NAME, Manifest, ShardEntry, ShardRecord, shard_tar_name, sidecar_beside
from synthgen.corpus.lock import hold_destination
from synthgen.corpus.read import Corpus, check_recipe, load_manifest, read_sidecars
from synthgen.corpus.storage import Destination, md5_of, same_content
from synthgen.errors import CorpusError

logger = logging.getLogger(__name__)

# Shards uploaded at once.
PARALLEL_UPLOADS = 8


@dataclass
class PushSummary:
    url: str
    uploaded: int = 0
    uploaded_bytes: int = 0
    skipped: int = 0
    removed: int = 0  # files of another recipe deleted (--overwrite)

    def line(self) -> str:
        removed = f"; removed {self.removed} files of another recipe" if self.removed else ""
        return (
            f"pushed to {self.url}: uploaded {self.uploaded} files ({self.uploaded_bytes:,} bytes), "
            f"{self.skipped} already there and identical{removed}"
        )


def push_corpus(
    local_url: str,
    remote_url: str,
    storage_options: dict[str, Any] | None = None,
    on_file: Callable[[str, int], None] | None = None,
    overwrite: bool = False,
) -> PushSummary:
    """Upload the complete corpus at `local_url` to `remote_url`; `on_file(name, bytes)` per file done.
    `overwrite`: replace what another recipe left at `remote_url` (its manifest, sidecars and the
    shards they commit are deleted first) instead of refusing."""
    local = Destination(local_url)
    if not local.is_local:
        raise CorpusError(f"{local_url}: push uploads a corpus from a local folder")
    if not local.exists(MANIFEST_NAME):
        raise CorpusError(f"{local_url}: not a complete corpus (no {MANIFEST_NAME}); finish the render first")
    _regular_file(local.path(MANIFEST_NAME))
    # Corpus checks the manifest, and that it names only shard files of this folder: a name such as
    # `../secret.tar` would upload a file from outside the corpus to outside the destination.
    manifest = Corpus(local_url).manifest
    assert manifest is not None  # the folder has one: checked above
    for entry in manifest.shardlist:  # every file checked before anything goes up
        _check_local_shard(local, manifest, entry)
    remote = Destination(remote_url, storage_options)
    remote.check_usable()
    # One writer per destination: a render or another push into it waits, or is refused.
    with hold_destination(remote, purpose="push", hint="wait for it, or push elsewhere"):
        return _push_held(local, local_url, manifest, remote, on_file, overwrite)


def _push_held(
    local: Destination,
    local_url: str,
    manifest: Manifest,
    remote: Destination,
    on_file: Callable[[str, int], None] | None,
    overwrite: bool,
) -> PushSummary:
    summary = PushSummary(url=remote.url)
    there = remote.infos()  # one listing, rather than a request per file
    if overwrite:
        summary.removed = _remove_other_recipe(remote, there, manifest)
    else:
        check_recipe(remote, manifest.recipe_sha256, "push elsewhere or pass --overwrite", names=there)
    _uncommit_other_count(remote, there, manifest, overwrite)
    lock = threading.Lock()

    def push_file(name: str, entry: ShardEntry | None = None) -> None:
        path = local.path(name)
        with _opened_regular(path) as (fd, found):
            size, md5, sha256 = _digests(fd)
        if entry is not None and (size, sha256) != (entry.filesize, entry.sha256):
            raise CorpusError(
                f"{path}: sha256 differs from the manifest: the shard is damaged; it was not uploaded and the "
                f"manifest will not be (run synthgen verify {local_url})"
            )
        copied = not same_content(_with_md5(remote, name, there.get(name)), size, md5)
        if copied:
            # The store checks what it holds against this MD5, of the bytes just hashed.
            remote.upload(path, name, md5)
            if _changed(path, found):
                remote.remove(name)
                raise CorpusError(f"{path}: changed while it was uploaded; push again")
        with lock:
            summary.uploaded += copied
            summary.uploaded_bytes += size if copied else 0
            summary.skipped += not copied
            if on_file is not None:
                on_file(name, size)

    def push_shard(entry: ShardEntry) -> None:
        push_file(entry.url, entry)
        push_file(sidecar_beside(entry.url))  # after its tar: a sidecar commits its shard

    # Shards go up concurrently (stores reward parallel requests); the manifest after all of them.
    with ThreadPoolExecutor(max_workers=PARALLEL_UPLOADS) as pool:
        futures = [pool.submit(push_shard, entry) for entry in manifest.shardlist]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    _push_card(local, remote, there, summary, on_file)  # the card before the manifest, too
    push_file(MANIFEST_NAME)
    return summary


def _push_card(
    local: Destination,
    remote: Destination,
    there: dict[str, dict[str, Any]],
    summary: PushSummary,
    on_file: Callable[[str, int], None] | None,
) -> None:
    """Upload the corpus's dataset card (README.md), when it has one (a corpus written before
    synthgen wrote cards has none: the push sends what the folder holds, nothing more). Only
    synthgen's card goes, read as a regular file (never through a symlink), and a README.md at
    the destination that is not synthgen's is left alone: both with a warning, the push goes on."""
    path = local.path(CARD_NAME)
    if not os.path.lexists(path):
        return
    try:
        with _opened_regular(path) as (fd, found):
            with os.fdopen(os.dup(fd), "rb") as stream:  # read() loops to the size asked
                data = stream.read(MAX_CARD_BYTES) if found.st_size <= MAX_CARD_BYTES else b""
    except CorpusError as err:
        logger.warning("%s not pushed: %s", CARD_NAME, err)
        return
    if not is_synthgen_card(data):
        logger.warning("%s: not synthgen's dataset card: not pushed", path)
        return
    if CARD_NAME in there:
        theirs = remote.read_bytes(CARD_NAME) if int(there[CARD_NAME].get("size", 0)) <= MAX_CARD_BYTES else b""
        if not is_synthgen_card(theirs):
            logger.warning("%s/%s: not synthgen's dataset card: left alone", remote.url.rstrip("/"), CARD_NAME)
            return
        if theirs == data:
            summary.skipped += 1
            return
    remote.write_bytes(CARD_NAME, data)
    summary.uploaded += 1
    summary.uploaded_bytes += len(data)
    if on_file is not None:
        on_file(CARD_NAME, len(data))


def _regular_file(path: str) -> os.stat_result:
    """lstat of a file of the corpus, which must be a regular file: never a symlink (it could point
    at any file of the machine), a folder or a device."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        raise CorpusError(f"{path}: missing; the corpus is incomplete (run synthgen verify on it)") from None
    if stat.S_ISLNK(found.st_mode):
        raise CorpusError(f"{path}: is a symlink; push uploads only the corpus's own regular files")
    if not stat.S_ISREG(found.st_mode):
        raise CorpusError(f"{path}: not a regular file; push uploads only the corpus's own regular files")
    return found


def _check_local_shard(local: Destination, manifest: Manifest, entry: ShardEntry) -> None:
    """A shard and its sidecar, before the push: regular files, the shard of the manifest's size,
    the sidecar of this recipe and recording what the manifest does."""
    tar = local.path(entry.url)
    size = _regular_file(tar).st_size
    if size != entry.filesize:
        raise CorpusError(
            f"{tar}: size {size} bytes, the manifest says {entry.filesize}: the shard is damaged; nothing was uploaded"
        )
    sidecar = local.path(sidecar_beside(entry.url))
    _regular_file(sidecar)
    record = ShardRecord.parse(local.read_bytes(sidecar_beside(entry.url)), where=sidecar)
    if (record.recipe_sha256, record.filesize, record.sha256) != (manifest.recipe_sha256, entry.filesize, entry.sha256):
        raise CorpusError(f"{sidecar}: records another shard than the manifest does; nothing was uploaded")


@contextlib.contextmanager
def _opened_regular(path: str) -> Iterator[tuple[int, os.stat_result]]:
    """A file descriptor of `path`, opened without following a symlink, and its fstat."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as err:  # ELOOP: a symlink put there since the check
        raise CorpusError(f"{path}: cannot be read as a regular file ({err.strerror})") from None
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode):
            raise CorpusError(f"{path}: not a regular file; push uploads only the corpus's own regular files")
        yield fd, found
    finally:
        os.close(fd)


def _digests(fd: int) -> tuple[int, str, str]:
    """(size, MD5, sha256) of an open file, read once."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    size = 0
    while chunk := os.read(fd, 1 << 20):
        md5.update(chunk)
        sha256.update(chunk)
        size += len(chunk)
    return size, md5.hexdigest(), sha256.hexdigest()


def _changed(path: str, before: os.stat_result) -> bool:
    """Whether `path` is no longer the file that was hashed (replaced, rewritten, now a symlink)."""
    try:
        now = os.lstat(path)
    except OSError:
        return True
    identity = ("st_dev", "st_ino", "st_size", "st_mtime_ns", "st_mode")
    return any(getattr(now, key) != getattr(before, key) for key in identity)


def _with_md5(remote: Destination, name: str, info: dict[str, Any] | None) -> dict[str, Any] | None:
    """The destination's metadata of `name`, with the MD5 of a local file: object stores report it
    (S3's ETag), a folder does not, and a file of the same size is not the same file."""
    if info is None or not remote.is_local:
        return info
    return info | {"ETag": md5_of(remote.path(name))}


def _uncommit_other_count(
    remote: Destination, there: dict[str, dict[str, Any]], manifest: Manifest, overwrite: bool
) -> None:
    """A complete corpus of this recipe at another count at the destination (the hash leaves
    `count` out): its manifest goes first, since the shards it lists change under it (a grown
    corpus's last shard is fuller), and the destination is complete again once this push ends.
    One larger than this corpus is refused unless `overwrite`: a push never shrinks a corpus."""
    if MANIFEST_NAME not in there:
        return
    try:
        theirs = load_manifest(remote)
    except CorpusError:
        return  # damaged: check_recipe (or --overwrite) has dealt with it
    if theirs.recipe_sha256 != manifest.recipe_sha256 or theirs.nsamples == manifest.nsamples:
        return
    if theirs.nsamples > manifest.nsamples and not overwrite:
        raise CorpusError(
            f"{remote.url}: holds {theirs.nsamples} samples of this recipe, this corpus {manifest.nsamples}: a push "
            "never shrinks a corpus; push elsewhere or pass --overwrite"
        )
    remote.remove(MANIFEST_NAME)
    there.pop(MANIFEST_NAME, None)


def _remove_other_recipe(remote: Destination, there: dict[str, dict[str, Any]], manifest: Manifest) -> int:
    """--overwrite: delete what another recipe left at the destination: its manifest first (so that
    it never looks complete), then its sidecars and the shards they commit. Files of this recipe
    stay (identical ones are skipped). Returns how many files went."""
    gone: list[str] = []
    if MANIFEST_NAME in there:
        try:
            theirs: str | None = load_manifest(remote).recipe_sha256
        except CorpusError:
            theirs = None  # damaged: replaced like a foreign one
        if theirs != manifest.recipe_sha256:
            gone.append(MANIFEST_NAME)
    for index, record in read_sidecars(remote, there).items():
        if record.recipe_sha256 != manifest.recipe_sha256:
            # The shard too, even one this corpus replaces: a store that reports no checksum (a local
            # folder) could take another recipe's shard of the same size for this one's.
            gone.append(sidecar_beside(shard_tar_name(index)))
            if shard_tar_name(index) in there:
                gone.append(shard_tar_name(index))
    for name in gone:
        remote.remove(name)
        there.pop(name, None)
    return len(gone)
