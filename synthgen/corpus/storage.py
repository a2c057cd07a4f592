"""Destinations: a folder named by a local path or any fsspec URL (s3://, gs://, memory://, ...).

Files are committed atomically. Locally: written under a temporary name and renamed. Elsewhere:
staged in a local temporary file, uploaded, and checked (size, plus the object's MD5 where the
store reports one as its ETag, as S3 does for single-part uploads) before the caller records
them as committed. Readers never see a half-written file under its final name.

Transient store errors (timeouts, resets, 5xx, throttling) are retried with exponential backoff;
permanent ones (access denied, a missing bucket) fail at once with one clear line. Credentials
and endpoints come the usual way (environment, AWS profiles) or as storage options; they are
never printed nor written anywhere.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib
import logging
import os
import posixpath
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import fsspec
from fsspec.implementations.local import LocalFileSystem

from synthgen.errors import CorpusError, StorageError, SynthgenError
from synthgen.faults import failpoint

logger = logging.getLogger(__name__)

# Half-written files: `.synthgen-tmp-<run id>-<random>-<name>`, so that a run can tell its own.
TEMP_PREFIX = ".synthgen-tmp-"
# Seconds to wait before each retry of a transient store error (then give up).
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
_T = TypeVar("_T")


def new_run_id() -> str:
    """A run's id: it names the run's temporaries and owns the destination's lock."""
    return uuid.uuid4().hex[:12]


class Destination:
    """A corpus folder. Names are flat (no subfolders): `shard-000000.tar`, `manifest.json`.

    `run_id` names the temporaries written through this object (the workers of one render pass
    their driver's, so that the run can tell its own half-written files from another run's)."""

    def __init__(
        self, url: str | os.PathLike[str], storage_options: dict[str, Any] | None = None, run_id: str | None = None
    ) -> None:
        self.url = str(url)
        self.run_id = run_id or new_run_id()
        self.storage_options = dict(storage_options or {})
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url, **self.storage_options)
        except (ValueError, ImportError, TypeError) as err:
            raise StorageError(f"{self.url}: cannot open destination: {_describe(err)}") from None
        self.is_local = isinstance(self.fs, LocalFileSystem)
        self.root = self.root.rstrip("/") or "/"

    def path(self, name: str) -> str:
        return posixpath.join(self.root, name)

    # -- reading -------------------------------------------------------------------------------

    def check_usable(self) -> None:
        """Fail clearly, before any work, if the destination is a file, or its bucket is missing or
        not ours to use (on object stores this also checks the credentials)."""
        if not self.is_local and _BUCKET_STORES.intersection(_protocols(self.fs)):
            bucket = self.root.split("/", 1)[0]
            try:
                # info, not exists: exists() answers False for access denied and for no connection.
                self.retrying("reach the bucket", lambda: self.fs.info(bucket))
            except CorpusError:
                raise CorpusError(f"{self.url}: the bucket {bucket!r} does not exist (create it first)") from None
        if self.retrying("check", lambda: self.fs.isfile(self.root)):
            raise CorpusError(f"{self.url}: destination is a file, not a folder")

    def check_not_current_folder(self) -> None:
        """Refuse the folder the command runs in (`--out ""`, `--out .`): a corpus there mixes with
        the user's own files, and --overwrite would work among them."""
        if self.is_local and (not self.url.strip() or os.path.realpath(self.root) == os.path.realpath(os.getcwd())):
            raise CorpusError(
                f"--out {self.url!r}: that is the current folder; name a folder of its own for the corpus "
                "(e.g. --out out/NAME)"
            )

    def exists(self, name: str) -> bool:
        return self.retrying(f"look up {name}", lambda: self.fs.exists(self.path(name)))

    def size(self, name: str) -> int | None:
        info = self.info(name)
        return None if info is None else int(info["size"])

    def info(self, name: str) -> dict[str, Any] | None:
        """The store's metadata of `name` (size, ETag, ...), or None if there is no such file."""
        try:
            return self.retrying(f"look up {name}", lambda: self.fs.info(self.path(name)))
        except CorpusError:
            return None

    def read_bytes(self, name: str) -> bytes:
        return self.retrying(f"read {name}", lambda: self.fs.cat_file(self.path(name)))

    def sha256(self, name: str) -> str:
        """The sha256 of file `name`, streamed (a shard is never held in memory whole)."""

        def digest() -> str:
            hasher = hashlib.sha256()
            with self.fs.open(self.path(name), "rb") as source:
                while chunk := source.read(1 << 22):
                    hasher.update(chunk)
            return hasher.hexdigest()

        return self.retrying(f"read {name}", digest)

    def open(self, name: str) -> IO[bytes]:
        return self.retrying(f"open {name}", lambda: self.fs.open(self.path(name), "rb"))

    def infos(self) -> dict[str, dict[str, Any]]:
        """The store's metadata of every file here, by name, from one listing."""

        def listing() -> dict[str, dict[str, Any]]:
            if not self.fs.isdir(self.root):
                return {}
            self.fs.invalidate_cache(self.root)  # another process may have written since
            entries = self.fs.ls(self.root, detail=True)
            return {posixpath.basename(e["name"].rstrip("/")): e for e in entries if e.get("type") != "directory"}

        return self.retrying("list", listing)

    def listdir(self) -> list[str]:
        """File names directly in the destination (empty if it does not exist yet)."""
        return sorted(self.infos())

    # -- writing -------------------------------------------------------------------------------

    def remove(self, name: str) -> None:
        with contextlib.suppress(CorpusError):
            self.retrying(f"remove {name}", lambda: self.fs.rm_file(self.path(name)))

    def remove_temporaries(self, *, all_runs: bool = True) -> None:
        """Delete half-written files (local folders only: elsewhere temporaries are staged on the
        local disk, never in the destination): this run's, or with `all_runs` every run's, which
        only the holder of the destination's lock may do (no other run can be writing then).

        Never raises: it runs while an error unwinds, and must not replace it (a folder gone
        read-only fails here too); what it cannot remove the next run removes."""
        if not self.is_local:
            return
        prefix = TEMP_PREFIX if all_runs else f"{TEMP_PREFIX}{self.run_id}-"
        try:
            names = [name for name in self.listdir() if name.startswith(prefix)]
        except SynthgenError as err:
            logger.debug("%s: temporaries not removed: %s", self.url, err)
            return
        for name in names:
            try:
                os.unlink(self.path(name))
            except FileNotFoundError:
                pass
            except OSError as err:
                logger.debug("%s: %s not removed: %s", self.url, name, _describe(err))

    def write_bytes(self, name: str, data: bytes) -> None:
        """Write a small file atomically."""
        with self.staging(name) as out:
            out.write(data)

    @contextlib.contextmanager
    def staging(self, name: str) -> Iterator[IO[bytes]]:
        """A file to write `name` into; it appears under its name, whole, only if the block succeeds."""
        if self.is_local:
            with self._local_staging(name) as out:
                yield out
            return
        with tempfile.NamedTemporaryFile(prefix=f"{TEMP_PREFIX}{self.run_id}-", suffix=f"-{name}") as out:
            yield out
            out.flush()
            self.upload(out.name, name)

    @contextlib.contextmanager
    def _local_staging(self, name: str) -> Iterator[IO[bytes]]:
        try:
            os.makedirs(self.root, exist_ok=True)
        except OSError as err:
            raise StorageError(f"{self.url}: cannot create destination: {_describe(err)}") from None
        temp = Path(self.path(f"{TEMP_PREFIX}{self.run_id}-{uuid.uuid4().hex[:8]}-{name}"))
        try:
            with open(temp, "wb") as out:
                yield out
                out.flush()
                os.fsync(out.fileno())
            failpoint("commit.rename")
            os.replace(temp, self.path(name))
            _fsync_folder(self.root)  # the rename itself survives a power cut
        except OSError as err:
            if err.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageError(
                    f"{self.url}: cannot write {name}: the disk is full ({_describe(err)}); "
                    "the half-written file is removed: free some space and run the same command again to resume"
                ) from None
            raise StorageError(f"{self.url}: cannot write {name}: {_describe(err)}") from None
        finally:
            # Cleanup never replaces the error that is unwinding (on a read-only filesystem the
            # unlink fails too); a temporary left behind is removed by the next run.
            try:
                temp.unlink(missing_ok=True)
            except OSError as err:
                logger.debug("%s: %s not removed: %s", self.url, temp.name, _describe(err))

    def upload(self, local_path: str | os.PathLike[str], name: str, md5: str | None = None) -> None:
        """Upload a local file as `name` and check that the store holds it whole (`md5`: the
        file's MD5, if the caller has it)."""
        size = os.path.getsize(local_path)
        md5 = md5 or md5_of(local_path)
        if self.is_local:
            with open(local_path, "rb") as source, self._local_staging(name) as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
            return

        def put_and_check() -> None:
            self.fs.put_file(str(local_path), self.path(name))
            self.fs.invalidate_cache(self.path(name))
            try:
                info = self.fs.info(self.path(name))
            except FileNotFoundError:
                # The store acknowledged a write it does not hold: retried like a torn upload.
                raise _Incomplete(f"upload of {name} acknowledged but not stored") from None
            if not same_content(info, size, md5):
                raise _Incomplete(f"upload of {name} did not arrive whole")

        self.retrying(f"upload {name}", put_and_check)

    # -- errors --------------------------------------------------------------------------------

    def retrying(self, what: str, operation: Callable[[], _T]) -> _T:
        """Run a store operation, retrying transient errors; raise one clear error otherwise."""
        for delay in (*RETRY_DELAYS, None):
            try:
                return operation()
            except FileNotFoundError as err:
                raise CorpusError(f"{self.url}: cannot {what}: {_not_found(err)}") from None
            except PermissionError as err:
                raise StorageError(
                    f"{self.url}: cannot {what}: access denied ({_describe(err)}); check the credentials "
                    "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --storage-option key=... secret=...)"
                ) from None
            except Exception as err:  # stores raise their own types (botocore, aiohttp, ...)
                if delay is None or not _transient(err):
                    raise StorageError(f"{self.url}: cannot {what}: {_describe(err)}") from None
                time.sleep(delay)
        raise AssertionError("unreachable")


# Filesystems whose first path component is a bucket that must exist beforehand.
_BUCKET_STORES = {"s3", "s3a", "gs", "gcs", "az", "abfs", "oss"}


def _protocols(fs: fsspec.AbstractFileSystem) -> set[str]:
    protocol = fs.protocol
    return {protocol} if isinstance(protocol, str) else set(protocol)


class _Incomplete(Exception):
    """An upload that the store reports with the wrong size or checksum (retried)."""


def same_content(info: dict[str, Any] | None, size: int, md5: str) -> bool:
    """Whether a store's metadata matches a file of `size` bytes and MD5 `md5`.

    Size always; the MD5 where the store gives it: S3's ETag of a single-part upload is the
    object's MD5 (a multipart ETag, with a `-`, is not, and botocore checksums each part itself).
    """
    if info is None or int(info.get("size", -1)) != size:
        return False
    etag = str(info.get("ETag", info.get("etag", ""))).strip('"')
    return not etag or "-" in etag or len(etag) != 32 or etag == md5


def md5_of(path: str | os.PathLike[str]) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _transient(err: BaseException) -> bool:
    """Timeouts, connection problems, 5xx and throttling are worth retrying; the rest is not."""
    if isinstance(err, (_Incomplete, TimeoutError, ConnectionError)):
        return True
    text = f"{type(err).__name__} {err}".lower()
    permanent = ("invalid", "nosuchbucket", "bucket does not exist", "not empty", "is a directory", "readonly")
    if any(word in text for word in permanent):
        return False
    transient = ("timeout", "timed out", "connect", "reset", "broken pipe", "throttl", "slowdown", "slow down",
                 "503", "500", "502", "504", "internalerror", "service unavailable", "temporarily")  # fmt: skip
    return any(word in text for word in transient)


def _not_found(err: BaseException) -> str:
    text = _describe(err)
    if "specified bucket does not exist" in text.lower() or "nosuchbucket" in text.lower():
        return f"the bucket does not exist ({text})"
    return f"not found ({text})"


def _describe(err: BaseException) -> str:
    """An exception as one short line (no tracebacks, no request dumps)."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 300 else text[:297] + "..."


describe_error = _describe


def _fsync_folder(path: str) -> None:
    """Make a folder's entries (a rename into it) durable; not every OS allows opening folders."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def register_webdataset_opener(
    storage_options: dict[str, Any] | None = None, protocols: tuple[str, ...] = ("s3", "gs", "gcs")
) -> None:
    """Let webdataset open `protocols` URLs through fsspec, with these storage options.

    webdataset opens `s3://` and the like with command-line tools; this makes it read shards the
    way synthgen does (same credentials, endpoint and retries of the store's client):

        register_webdataset_opener({"endpoint_url": "http://127.0.0.1:9000"})
        wds.WebDataset("s3://bucket/corpus/shard-{000000..000009}.tar")
    """
    # The module, not the `gopen` function that webdataset's package namespace exports.
    gopen = importlib.import_module("webdataset.gopen")

    def open_with_fsspec(url: str, mode: str = "rb", bufsize: int = 8192, **_: Any) -> IO[bytes]:
        return fsspec.open(url, mode, **(storage_options or {})).open()

    for protocol in protocols:
        gopen.gopen_schemes[protocol] = open_with_fsspec
