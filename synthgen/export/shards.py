"""WebDataset tar shards: a deterministic writer, a checked reader, sidecars and the manifest.

A shard is a plain POSIX tar of `{key}.{field}` members, one sample's members consecutive.
Member metadata is fixed (mtime, owner, mode), so the same samples always give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from synthgen.errors import CorpusError

MANIFEST_NAME = "manifest.json"
FORMAT_NAME = "synthgen-corpus"
FORMAT_VERSION = 1
# 2020-01-01T00:00:00Z: a fixed, plausible member mtime (tar tools warn on 0).
MEMBER_MTIME = 1577836800
BLOCK_SIZE = tarfile.BLOCKSIZE

# Keys are digits; fields are dotted lowercase words (jpg, view1.jpg, json, cls, txt).
_MEMBER_NAME = re.compile(r"^(?P<key>[0-9A-Za-z_-]+)\.(?P<field>[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)$")


class _HashingWriter(io.RawIOBase):
    """Forwards writes to `target` while counting bytes and computing their sha256."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.sha256 = hashlib.sha256()
        self.nbytes = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        view = memoryview(data)
        self.sha256.update(view)
        self.nbytes += len(view)
        self.target.write(view)
        return len(view)


class ShardWriter:
    """Writes samples (`{"__key__": ..., "jpg": bytes, ...}`) as a POSIX (ustar) tar stream.

    tarfile builds each member's header; data, padding and the end-of-archive blocks are written
    here directly, sequentially, so the hash sees every byte once and nothing is copied in chunks.
    The bytes are those tarfile itself would write.
    """

    def __init__(self, fileobj: IO[bytes]) -> None:
        self._out = _HashingWriter(fileobj)
        self.nsamples = 0

    def write(self, sample: Mapping[str, Any]) -> None:
        key = sample["__key__"]
        for name, value in sample.items():
            if name.startswith("__"):
                continue
            data = value if isinstance(value, bytes) else str(value).encode("utf-8")
            info = tarfile.TarInfo(f"{key}.{name}")
            info.size = len(data)
            info.mtime = MEMBER_MTIME
            info.mode = 0o444
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            self._out.write(info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict"))
            self._out.write(data)
            self._out.write(_zeros(-len(data) % tarfile.BLOCKSIZE))
        self.nsamples += 1

    def close(self) -> tuple[int, str]:
        """Finish the tar; returns (bytes written, sha256 hex)."""
        self._out.write(_zeros(2 * tarfile.BLOCKSIZE))  # end-of-archive marker
        self._out.write(_zeros(-self._out.nbytes % tarfile.RECORDSIZE))
        return self._out.nbytes, self._out.sha256.hexdigest()


def _zeros(n: int) -> bytes:
    return b"\0" * n


class _TailKeepingReader(io.RawIOBase):
    """Reads through to `source`, keeping the last block of what was read.

    tarfile takes a file that ends at a block boundary for a complete archive, so a shard cut
    short there would read as fewer samples. Every tar writer ends the archive with zero blocks:
    a file whose last block is not zeros was cut.
    """

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.tail = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        buffer[: len(data)] = data
        if data:
            self.tail = (self.tail + data)[-BLOCK_SIZE:] if len(data) < BLOCK_SIZE else bytes(data[-BLOCK_SIZE:])
        return len(data)

    def ends_with_zero_block(self) -> bool:
        while self.read(1 << 16):  # the rest is end-of-archive padding, a few blocks
            pass
        return len(self.tail) == BLOCK_SIZE and not any(self.tail)


def iter_tar_samples(fileobj: IO[bytes], where: str = "shard") -> Iterator[dict[str, Any]]:
    """Group a shard's members into samples; refuses unsafe or malformed member names.

    Each sample is `{"__key__": key, field: bytes, ...}`. Raises CorpusError naming `where`
    and the member for anything that is not a plain, flat `key.field` file, and for a shard that
    was cut short.
    """
    current: dict[str, Any] | None = None
    reader = _TailKeepingReader(fileobj)
    try:
        with tarfile.open(fileobj=reader, mode="r|*") as tar:
            for member in tar:
                name = member.name
                if not member.isfile():
                    raise CorpusError(f"{where}: member {name!r} is not a regular file")
                match = _MEMBER_NAME.match(name)
                if match is None:
                    raise CorpusError(f"{where}: unsafe or malformed member name {name!r}")
                key, field_name = match["key"], match["field"]
                extracted = tar.extractfile(member)
                data = extracted.read() if extracted is not None else b""
                if current is not None and current["__key__"] != key:
                    yield current
                    current = None
                if current is None:
                    current = {"__key__": key}
                if field_name in current:
                    raise CorpusError(f"{where}: duplicate member {name!r}")
                current[field_name] = data
    except tarfile.TarError as err:
        raise CorpusError(f"{where}: damaged tar: {err}") from None
    if not reader.ends_with_zero_block():
        raise CorpusError(f"{where}: damaged tar: the file is cut short (no end-of-archive block)")
    if current is not None:
        yield current


@dataclass
class ShardRecord:
    """The sidecar `shard-NNNNNN.json`: a shard counts as committed only when this matches it."""

    shard: int
    url: str
    recipe_sha256: str
    first_index: int
    nsamples: int
    filesize: int
    sha256: str
    render_seconds: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)
    # First message seen per culprit (e.g. a program id -> its compile error).
    failure_subjects: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShardRecord:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


def build_manifest(
    recipe: Mapping[str, Any],
    recipe_sha256: str,
    records: list[ShardRecord],
    synthgen_version: str,
) -> dict[str, Any]:
    """The corpus manifest; its `shardlist` and `wids_version` make it a wids index too."""
    failures: dict[str, int] = {}
    for record in records:
        for reason, n in record.failures.items():
            failures[reason] = failures.get(reason, 0) + n
    return {
        "__kind__": "wids-shard-index-v1",
        "wids_version": 1,
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "name": recipe["name"],
        "synthgen_version": synthgen_version,
        "recipe_sha256": recipe_sha256,
        "recipe": dict(recipe),
        "nsamples": sum(r.nsamples for r in records),
        "nimages": sum(r.nsamples for r in records) * recipe["views"],
        "nshards": len(records),
        "filesize": sum(r.filesize for r in records),
        "failures": dict(sorted(failures.items())),
        "shardlist": [
            {"url": r.url, "nsamples": r.nsamples, "filesize": r.filesize, "sha256": r.sha256} for r in records
        ],
    }
