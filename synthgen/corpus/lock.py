"""One writer per destination: a lock held for the length of a render, a push or a training run.

Locally the lock is `DEST/.synthgen-lock` held with `fcntl.flock`: the OS releases it when its
process dies, however it dies, so a killed run never leaves a folder locked. On object storage it
is a lock object, `DEST/.synthgen-lock`, naming its owner, created with a conditional write where
the store has one (S3's `If-None-Match: *`), renewed by a heartbeat thread every HEARTBEAT_S
seconds, and deleted on release. A lock object whose heartbeat is older than its expiry belongs to
a dead run and is taken over; any other is broken only when the user says so (`--force`).

A second writer gets one line naming the holder:

    DEST: another synthgen run (pid P on HOST, since T) is writing here; wait for it, or pass --force if it is dead

    with hold_destination(Destination("s3://bucket/corpus")) as lock:
        ...            # write; lock.check() before a step that must not run on a lost lock
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthgen.corpus.storage import Destination, describe_error
from synthgen.errors import CorpusError, StorageError
from synthgen.text import printable

logger = logging.getLogger(__name__)

LOCK_NAME = ".synthgen-lock"
# A lock object not renewed for this long belongs to a dead run (its heartbeat stopped).
EXPIRY_S = 60.0
# How often the holder of a lock object renews it: well inside the expiry, so that a slow store
# or a busy machine never lets a live run's lock expire.
HEARTBEAT_S = 15.0
# What a second writer is told to do, by default.
FORCE_HINT = "wait for it, or pass --force if it is dead"


class DestinationBusy(CorpusError):
    """Another run holds the destination's lock."""


class DestinationLock:
    """A held lock; `check()` raises once it is lost (a lock object taken over with --force)."""

    def __init__(self, dest: Destination, info: dict[str, Any]) -> None:
        self.dest = dest
        self.info = info
        self.lost: str | None = None
        self.etag: str | None = None  # a lock object's version, where the store gives one

    @property
    def owner(self) -> str:
        return str(self.info["owner"])

    def check(self) -> None:
        if self.lost is not None:
            raise CorpusError(f"{self.dest.url}: {self.lost}; stopped, nothing more is written here")

    def release(self) -> None:  # pragma: no cover - every kind defines it
        raise NotImplementedError


@contextlib.contextmanager
def hold_destination(
    dest: Destination, *, force: bool = False, purpose: str = "render", hint: str = FORCE_HINT
) -> Iterator[DestinationLock]:
    """Hold `dest`'s lock for the block (the owner is `dest.run_id`); DestinationBusy, one line
    ending with `hint`, if another run holds it. `force` breaks another run's lock first."""
    info = {
        "owner": dest.run_id,
        "purpose": purpose,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "heartbeat": time.time(),
        "expires_after": EXPIRY_S,
    }
    lock: DestinationLock
    if dest.is_local:
        lock = _FileLock(dest, info, force, hint)
    elif _conditional_writes(dest):
        lock = _S3Lock(dest, info, force, hint)
    else:
        lock = _ObjectLock(dest, info, force, hint)
    try:
        yield lock
    finally:
        try:
            lock.release()
        except Exception as err:  # a lock left behind expires; it must not hide how the block ended
            logger.warning("%s: could not release the lock: %s", dest.url, describe_error(err))


def busy_message(dest: Destination, holder: dict[str, Any] | None, hint: str) -> str:
    who = "another synthgen run"
    if holder:
        # The note is a file anyone could have written: shown short, control characters escaped.
        pid, host, since = (printable(str(holder.get(key, "?")))[:64] for key in ("pid", "host", "since"))
        who += f" (pid {pid} on {host}, since {since})"
    return f"{dest.url}: {who} is writing here; {hint}"


def _parse(data: bytes) -> dict[str, Any] | None:
    try:
        found = json.loads(data)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _expired(holder: dict[str, Any] | None, now: float) -> bool:
    """Whether a lock object's holder stopped renewing it (an unreadable one counts as expired)."""
    if holder is None:
        return True
    try:
        return now - float(holder["heartbeat"]) > float(holder.get("expires_after", EXPIRY_S))
    except (KeyError, TypeError, ValueError):
        return True


# -- a local folder: flock ------------------------------------------------------------------------


class _FileLock(DestinationLock):
    def __init__(self, dest: Destination, info: dict[str, Any], force: bool, hint: str) -> None:
        super().__init__(dest, info)
        folder = Path(dest.root)
        self.created_folder = not folder.exists()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StorageError(f"{dest.url}: cannot create destination: {describe_error(err)}") from None
        self.path = folder / LOCK_NAME
        self.fd = self._take(force, hint)

    def _take(self, force: bool, hint: str) -> int:
        for _ in range(10):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as err:
                raise StorageError(f"{self.dest.url}: cannot write here: {describe_error(err)}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                if err.errno in _NO_LOCKS:
                    # A filesystem without locks (some network and FUSE mounts): rendering there
                    # still works, without the guarantee.
                    logger.warning(
                        "%s: this filesystem takes no locks (%s): nothing stops a second run writing here",
                        self.dest.url,
                        describe_error(err),
                    )
                    return fd
                holder = _parse(_read_all(fd))
                os.close(fd)
                if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise StorageError(f"{self.dest.url}: cannot lock: {describe_error(err)}") from None
                if not force:
                    raise DestinationBusy(busy_message(self.dest, holder, hint)) from None
                # A flock is released by the OS when its process dies; one still held belongs to a
                # live process, or to one on another machine of a shared filesystem that is stuck.
                # --force gives the folder a new lock file, leaving the old holder its orphan.
                logger.warning(
                    "%s: --force: breaking the lock of %s", self.dest.url, busy_message(self.dest, holder, "")
                )
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
                force = False
                continue
            try:
                # The file may have been released and removed, or replaced by --force, between
                # our open and our flock: the lock is the file that is at the path now.
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(self.info).encode() + b"\n", 0)
            except OSError as err:  # a full disk: the lock holds all the same; only its note is missing
                logger.debug("%s: lock note not written: %s", self.dest.url, describe_error(err))
            return fd
        raise DestinationBusy(busy_message(self.dest, None, hint))

    def check(self) -> None:
        # A --force elsewhere replaced the lock file: this run stops at its next shard.
        if self.lost is None and self.fd >= 0:
            try:
                replaced = os.stat(self.path).st_ino != os.fstat(self.fd).st_ino
            except FileNotFoundError:
                replaced = True
            except OSError:
                replaced = False
            if replaced:
                self.lost = "another run took this destination's lock over (--force)"
        super().check()

    def release(self) -> None:
        if self.fd < 0:
            return
        try:
            # Ours still (not replaced by a --force): remove it, then unlock by closing.
            if os.stat(self.path).st_ino == os.fstat(self.fd).st_ino:
                self.path.unlink()
        except OSError:
            pass
        finally:
            os.close(self.fd)
            self.fd = -1
        if self.created_folder:  # a run that failed before writing anything leaves no empty folder
            with contextlib.suppress(OSError):
                Path(self.dest.root).rmdir()


# flock's answers on a filesystem that has no locks.
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}


def _read_all(fd: int) -> bytes:
    try:
        return os.pread(fd, 4096, 0)
    except OSError:
        return b""


# -- object storage: a lock object with a heartbeat -----------------------------------------------


class _ObjectLock(DestinationLock):
    """A lock object on a store without conditional writes: written, then read back (another run
    writing at the same moment may win; the last writer holds it, and the other notices at its
    next heartbeat)."""

    def __init__(self, dest: Destination, info: dict[str, Any], force: bool, hint: str) -> None:
        super().__init__(dest, info)
        self.hint = hint
        self._stop = threading.Event()
        self._take(force)
        self._last_renewal = time.monotonic()
        self._thread = threading.Thread(target=self._beat, name="synthgen-lock-heartbeat", daemon=True)
        self._thread.start()

    # What a store-specific lock replaces: read (holder, version), create, replace, delete.

    def _read(self) -> tuple[dict[str, Any] | None, str | None] | None:
        """The lock object's content and version (ETag), or None when there is none."""
        if not self.dest.exists(LOCK_NAME):
            return None
        try:
            return _parse(self.dest.read_bytes(LOCK_NAME)), None
        except CorpusError:  # removed since
            return None

    def _create(self) -> bool:
        self.dest.write_bytes(LOCK_NAME, self._body())
        found = self._read()
        return found is not None and found[0] is not None and found[0].get("owner") == self.owner

    def _replace(self, version: str | None) -> bool:
        return self._create()

    def _delete(self) -> None:
        found = self._read()
        if found is not None and found[0] is not None and found[0].get("owner") == self.owner:
            self.dest.remove(LOCK_NAME)

    def _body(self) -> bytes:
        return json.dumps(self.info).encode() + b"\n"

    def _take(self, force: bool) -> None:
        for _ in range(10):
            found = self._read()
            if found is None:
                if self._create():
                    return
                continue
            holder, version = found
            if holder is not None and holder.get("owner") == self.owner:
                self.etag = version
                return  # our own write, answered as a failure and retried
            if not force and not _expired(holder, time.time()):
                raise DestinationBusy(busy_message(self.dest, holder, self.hint))
            why = "--force" if force else "expired: its run stopped renewing it"
            logger.warning(
                "%s: taking over the lock of %s (%s)", self.dest.url, busy_message(self.dest, holder, ""), why
            )
            self.info["heartbeat"] = time.time()
            if self._replace(version):
                return
            force = False  # someone else took it first: judge their lock afresh
        raise DestinationBusy(busy_message(self.dest, None, self.hint))

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                self._renew()
            except Exception as err:  # a store hiccup: the next beat tries again, within the expiry
                logger.debug("%s: lock heartbeat failed: %s", self.dest.url, describe_error(err))
            if self.lost is None and time.monotonic() - self._last_renewal > EXPIRY_S:
                self.lost = f"the lock could not be renewed for {EXPIRY_S:.0f} s (the store is unreachable?)"
            if self.lost is not None:
                logger.error("%s: %s", self.dest.url, self.lost)
                return

    def _renew(self) -> None:
        found = self._read()
        if found is None or found[0] is None or found[0].get("owner") != self.owner:
            self.lost = "another run took this destination's lock over (--force, or it expired)"
            return
        self.info["heartbeat"] = time.time()
        self.dest.write_bytes(LOCK_NAME, self._body())
        self._last_renewal = time.monotonic()

    def release(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        if self.lost is None:
            self._delete()


def _conditional_writes(dest: Destination) -> bool:
    """Whether the store takes S3's conditional writes (s3fs: `If-None-Match`, `If-Match`)."""
    return hasattr(dest.fs, "call_s3") and hasattr(dest.fs, "split_path")


class _S3Lock(_ObjectLock):
    """A lock object created with `If-None-Match: *` and replaced, renewed and deleted with
    `If-Match: <its ETag>`: of two runs at the same moment exactly one wins."""

    def __init__(self, dest: Destination, info: dict[str, Any], force: bool, hint: str) -> None:
        self.bucket, self.key, _ = dest.fs.split_path(dest.path(LOCK_NAME))
        super().__init__(dest, info, force, hint)

    def _call(self, what: str, method: str, **kwargs: Any) -> dict[str, Any] | None:
        """An S3 call (retried on transient errors); None when its precondition failed."""

        def call() -> dict[str, Any] | None:
            try:
                return self.dest.fs.call_s3(method, Bucket=self.bucket, Key=self.key, **kwargs)
            except Exception as err:
                if _precondition_failed(err):
                    return None
                raise

        return self.dest.retrying(what, call)

    def _read(self) -> tuple[dict[str, Any] | None, str | None] | None:
        from fsspec.asyn import sync

        def get() -> tuple[dict[str, Any] | None, str | None] | None:
            try:
                response = self.dest.fs.call_s3("get_object", Bucket=self.bucket, Key=self.key)
            except FileNotFoundError:
                return None
            body = sync(self.dest.fs.loop, response["Body"].read)
            return _parse(body), str(response["ETag"])

        return self.dest.retrying("read the lock", get)

    def _create(self) -> bool:
        return self._put(IfNoneMatch="*")

    def _replace(self, version: str | None) -> bool:
        return self._put(**({"IfMatch": version} if version else {"IfNoneMatch": "*"}))

    def _put(self, **condition: str) -> bool:
        response = self._call("take the lock", "put_object", Body=self._body(), **condition)
        if response is None:
            return False
        self.etag = str(response["ETag"])
        return True

    def _renew(self) -> None:
        self.info["heartbeat"] = time.time()
        response = self._call("renew the lock", "put_object", Body=self._body(), IfMatch=self.etag or "")
        if response is None:
            self.lost = "another run took this destination's lock over (--force, or it expired)"
            return
        self.etag = str(response["ETag"])
        self._last_renewal = time.monotonic()

    def _delete(self) -> None:
        try:
            self._call("release the lock", "delete_object", IfMatch=self.etag or "")
        except StorageError:
            # A store that takes no conditional delete: delete it if it is still ours.
            super()._delete()


def _precondition_failed(err: BaseException) -> bool:
    """Whether an S3 error says a condition (If-None-Match, If-Match) did not hold."""
    if isinstance(err, FileExistsError):  # s3fs's name for a failed If-None-Match
        return True
    for cause in (err, err.__cause__):
        response = getattr(cause, "response", None)
        if isinstance(response, dict):
            code = str(response.get("Error", {}).get("Code", ""))
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                return True
    return False
