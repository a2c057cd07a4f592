"""Destinations: a folder named by a local path or any fsspec URL.

Files are committed atomically: written under a temporary name and renamed (local), or staged
locally and uploaded, then checked (other filesystems). Readers never see a half-written file
under its final name.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from synthgen.errors import CorpusError, StorageError

TEMP_PREFIX = ".synthgen-tmp-"


class Destination:
    """A corpus folder. Names are flat (no subfolders): `shard-000000.tar`, `manifest.json`."""

    def __init__(self, url: str | os.PathLike[str], storage_options: dict[str, Any] | None = None) -> None:
        self.url = str(url)
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url, **(storage_options or {}))
        except (ValueError, ImportError) as err:
            raise StorageError(f"{self.url}: cannot open destination: {err}") from None
        self.is_local = isinstance(self.fs, LocalFileSystem)
        self.root = self.root.rstrip("/") or "/"

    def path(self, name: str) -> str:
        return posixpath.join(self.root, name)

    def check_usable(self) -> None:
        """Fail clearly if the destination exists but is not a folder."""
        if self.fs.isfile(self.root):
            raise CorpusError(f"{self.url}: destination is a file, not a folder")

    def exists(self, name: str) -> bool:
        return self.fs.exists(self.path(name))

    def size(self, name: str) -> int | None:
        try:
            return int(self.fs.size(self.path(name)))
        except FileNotFoundError:
            return None

    def read_bytes(self, name: str) -> bytes:
        try:
            return self.fs.cat_file(self.path(name))
        except FileNotFoundError:
            raise CorpusError(f"{self.url}: {name} not found") from None
        except OSError as err:
            raise StorageError(f"{self.url}: cannot read {name}: {err}") from None

    def open(self, name: str) -> IO[bytes]:
        try:
            return self.fs.open(self.path(name), "rb")
        except FileNotFoundError:
            raise CorpusError(f"{self.url}: {name} not found") from None

    def listdir(self) -> list[str]:
        """File names directly in the destination (empty if it does not exist yet)."""
        if not self.fs.isdir(self.root):
            return []
        return sorted(posixpath.basename(p.rstrip("/")) for p in self.fs.ls(self.root, detail=False))

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.path(name))

    def remove_temporaries(self) -> None:
        """Delete what an interrupted render left half-written."""
        for name in self.listdir():
            if name.startswith(TEMP_PREFIX):
                self.remove(name)

    def write_bytes(self, name: str, data: bytes) -> None:
        """Write a small file atomically."""
        with self.staging(name) as out:
            out.write(data)

    @contextlib.contextmanager
    def staging(self, name: str) -> Iterator[IO[bytes]]:
        """A file to write `name` into; it appears under its name only if the block succeeds."""
        try:
            self.fs.makedirs(self.root, exist_ok=True)
        except OSError as err:
            raise StorageError(f"{self.url}: cannot create destination: {err}") from None
        if self.is_local:
            temp = Path(self.path(f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{name}"))
            try:
                with open(temp, "wb") as out:
                    yield out
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, self.path(name))
                _fsync_folder(self.root)  # the rename itself survives a power cut
            except OSError as err:
                raise StorageError(f"{self.url}: cannot write {name}: {err}") from None
            finally:
                temp.unlink(missing_ok=True)
            return
        with tempfile.NamedTemporaryFile(prefix=TEMP_PREFIX, suffix=f"-{name}") as out:
            yield out
            out.flush()
            size = out.tell()
            try:
                self.fs.put_file(out.name, self.path(name))
            except OSError as err:
                raise StorageError(f"{self.url}: cannot upload {name}: {err}") from None
            if self.size(name) != size:
                self.remove(name)
                raise StorageError(f"{self.url}: upload of {name} did not arrive whole")


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
