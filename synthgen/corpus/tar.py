"""WebDataset tar shards: a deterministic writer and a checked, strict reader.

A shard is a plain POSIX tar of `{key}.{field}` members, one sample's members consecutive.
Member metadata is fixed (mtime, owner, mode), so the same samples always give the same bytes.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import re
import stat
import tarfile
import zlib
from collections.abc import Iterator, Mapping
from typing import IO, Any

from synthgen.errors import CorpusError
from synthgen.faults import failpoint

# 2020-01-01T00:00:00Z: a fixed, plausible member mtime (tar tools warn on 0).
MEMBER_MTIME = 1577836800
BLOCK_SIZE = tarfile.BLOCKSIZE

# The most bytes one member, or one sample's members together, may hold: the reader refuses more
# rather than allocate it (a 1.5 MB gzip "tar" can announce a 1.5 GB member). The environment
# variable overrides it for every reader (verify, inspect, preview, train, eval); callers of
# iter_tar_samples may also pass max_member_bytes.
MAX_MEMBER_BYTES = 256 << 20
MAX_MEMBER_BYTES_ENV = "SYNTHGEN_MAX_MEMBER_BYTES"

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
            failpoint("tar.member")
        self.nsamples += 1

    def close(self) -> tuple[int, str]:
        """Finish the tar; returns (bytes written, sha256 hex)."""
        failpoint("tar.close")
        self._out.write(_zeros(2 * tarfile.BLOCKSIZE))  # end-of-archive marker
        self._out.write(_zeros(-self._out.nbytes % tarfile.RECORDSIZE))
        return self._out.nbytes, self._out.sha256.hexdigest()


def _zeros(n: int) -> bytes:
    return b"\0" * n


class HashingReader(io.RawIOBase):
    """Reads from `source` while counting and hashing (sha256) every byte read: a shard is checked
    against its recorded sha256 as it streams, without a second read."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.sha256 = hashlib.sha256()
        self.nbytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.source.read(len(buffer))
        self.sha256.update(data)
        self.nbytes += len(data)
        buffer[: len(data)] = data
        return len(data)

    @property
    def size(self) -> int | None:
        """The size of the file being read, when it can be known (what the tar reader bounds by)."""
        return stream_size(self.source)

    def read_to_end(self) -> None:
        """Read (and hash) what the tar reader left: the padding after the end-of-archive blocks."""
        while self.read(1 << 20):
            pass


def stream_size(fileobj: IO[bytes]) -> int | None:
    """The total size of the file behind `fileobj`, or None when it cannot be known cheaply."""
    size = getattr(fileobj, "size", None)  # fsspec files, HashingReader
    if type(size) is int:
        return size
    try:
        found = os.fstat(fileobj.fileno())
        if stat.S_ISREG(found.st_mode):  # a pipe's or a socket's size is not what is left to read
            return found.st_size
        return None
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        pass
    try:
        if fileobj.seekable():
            here = fileobj.tell()
            end = fileobj.seek(0, io.SEEK_END)
            fileobj.seek(here)
            return int(end)
    except (AttributeError, OSError, ValueError):
        pass
    return None


def member_limit() -> int:
    """The member size limit: MAX_MEMBER_BYTES, or the environment's SYNTHGEN_MAX_MEMBER_BYTES."""
    text = os.environ.get(MAX_MEMBER_BYTES_ENV, "").strip()
    if not text:
        return MAX_MEMBER_BYTES
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise CorpusError(f"{MAX_MEMBER_BYTES_ENV}={text[:30]!r}: expected a positive number of bytes")
    return int(text)


class _DamagedTar(Exception):
    """What is wrong with a tar stream; iter_tar_samples names the shard."""


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    while len(data) < size:  # remote files may return less than asked before the end
        more = stream.read(size - len(data))
        if not more:
            raise _DamagedTar("the file is cut short")
        data += more
    return data


def _number(field: bytes) -> int:
    """A header number: octal digits, or base-256 when the first byte's high bit is set."""
    if field[:1] and field[0] & 0x80:
        return int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
    digits = field.split(b"\0", 1)[0].strip()
    try:
        return int(digits, 8) if digits else 0
    except ValueError:
        raise _DamagedTar(f"a header holds {field!r} where a number belongs") from None


def _pax_size(text: str) -> int:
    # 20 digits exceed any real size; more would only make int() slow or refuse (4300 digits).
    if not text.isascii() or not text.isdigit() or len(text) > 20:
        raise _DamagedTar(f"a pax header gives the size {text[:20]!r}, not a byte count")
    return int(text)


def _pax_records(data: bytes) -> dict[str, str]:
    """`LENGTH KEY=VALUE\\n` records of a pax extended header."""
    records: dict[str, str] = {}
    position = 0
    while position < len(data) and data[position : position + 1] not in (b"", b"\0"):
        length_text, _, _ = data[position : position + 20].partition(b" ")
        try:
            length = int(length_text)
        except ValueError:
            raise _DamagedTar("a pax header is malformed") from None
        record = data[position : position + length]
        key, sep, value = record[len(length_text) + 1 : -1].partition(b"=")
        if length <= 0 or not sep or not record.endswith(b"\n"):
            raise _DamagedTar("a pax header is malformed")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
        position += length
    return records


def iter_tar_members(
    stream: IO[bytes], max_member: int | None = None, remaining: int | None = None
) -> Iterator[tuple[str, bytes]]:
    """(name, data) of each member of an uncompressed tar stream, in order, read strictly.

    ustar, GNU and pax tars (what tarfile, GNU tar and webdataset write) are read here directly:
    tarfile's general machinery costs more per member than decoding a small image. Checksums are
    checked, and so is the end-of-archive block: a file cut short at a block boundary is damaged,
    not a shorter shard. Only regular files are members; anything else (links, folders, devices)
    raises, as does a cut or garbled file. A member whose header announces more than `max_member`
    bytes (default: member_limit()), or more than the `remaining` bytes of the file (when the
    caller knows them), is refused before anything is allocated for it.
    """
    limit = member_limit() if max_member is None else max_member
    long_name: str | None = None
    pax: dict[str, str] = {}
    while True:
        header = stream.read(BLOCK_SIZE)
        if len(header) < BLOCK_SIZE:
            raise _DamagedTar("the file is cut short (no end-of-archive block)")
        if remaining is not None:
            remaining -= BLOCK_SIZE
        if not any(header):
            return
        _check_checksum(header)
        kind = header[156:157]
        size = _pax_size(pax["size"]) if "size" in pax else _number(header[124:136])
        # The name this header gives its member (for pax, GNU long-name and global headers, their
        # own placeholder name): what a refusal names.
        own = kind in (b"x", b"g", b"L")
        name = _header_name(header) if own else pax.get("path") or long_name or _header_name(header)
        if size > limit:
            raise _DamagedTar(
                f"member {name!r} announces {size:,} bytes, over the limit of {limit:,} "
                f"({MAX_MEMBER_BYTES_ENV} sets it)"
            )
        padding = -size % BLOCK_SIZE
        if remaining is not None:
            if size + padding > remaining:
                raise _DamagedTar(
                    f"the file is cut short: member {name!r} announces {size:,} bytes, "
                    f"{max(remaining, 0):,} are left in the file"
                )
            remaining -= size + padding
        try:
            data = _read_exact(stream, size)
        except (MemoryError, OverflowError) as err:
            raise _DamagedTar(f"member {name!r} of {size:,} bytes cannot be read ({type(err).__name__})") from None
        if padding:
            _read_exact(stream, padding)
        if kind == b"x":  # pax: applies to the next member
            pax = _pax_records(data)
            continue
        if kind == b"g":  # pax global header: nothing we use
            continue
        if kind == b"L":  # GNU long name of the next member
            long_name = data.split(b"\0", 1)[0].decode("utf-8", "replace")
            continue
        pax, long_name = {}, None
        if kind not in (b"0", b"\0", b"7"):  # 7: contiguous file, a regular file elsewhere
            raise _DamagedTar(f"member {name!r} is not a regular file")
        yield name, data


def _check_checksum(header: bytes) -> None:
    stored = _number(header[148:156])
    unsigned = sum(header) - sum(header[148:156]) + 8 * 0x20  # the checksum field counts as spaces
    if stored != unsigned:
        # Some old writers summed signed bytes.
        signed = (
            unsigned
            - 256 * sum(1 for byte in header if byte > 127)
            + 256 * sum(1 for byte in header[148:156] if byte > 127)
        )
        if stored != signed:
            raise _DamagedTar("a header's checksum does not match (not a tar, or garbled)")


def _header_name(header: bytes) -> str:
    name = header[0:100].split(b"\0", 1)[0]
    if header[257:263] == b"ustar\0":  # POSIX ustar: a prefix folder may complete the name
        prefix = header[345:500].split(b"\0", 1)[0]
        if prefix:
            name = prefix + b"/" + name
    return name.decode("utf-8", "replace")


def _uncompressed(fileobj: IO[bytes]) -> tuple[IO[bytes], bool]:
    """`fileobj`, decompressed when it is a .tar.gz, .tar.bz2 or .tar.xz; and whether it was plain."""
    head = fileobj.read(6)
    whole = io.BufferedReader(_Prefixed(head, fileobj), buffer_size=1 << 16)
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=whole), False  # type: ignore[return-value]
    if head.startswith(b"BZh"):
        return bz2.BZ2File(whole), False  # type: ignore[return-value]
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(whole), False  # type: ignore[return-value]
    return whole, True


class _Prefixed(io.RawIOBase):
    """`head` (bytes already read from `source`), then the rest of `source`."""

    def __init__(self, head: bytes, source: IO[bytes]) -> None:
        self.head = head
        self.source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def iter_tar_samples(
    fileobj: IO[bytes], where: str = "shard", max_member_bytes: int | None = None
) -> Iterator[dict[str, Any]]:
    """Group a shard's members into samples; refuses unsafe or malformed member names.

    Each sample is `{"__key__": key, field: bytes, ...}`. Raises CorpusError naming `where`
    and the member for anything that is not a plain, flat `key.field` file, for a shard that
    is damaged or was cut short, and for a member, or a sample's members together, over
    `max_member_bytes` (default: MAX_MEMBER_BYTES, or SYNTHGEN_MAX_MEMBER_BYTES): memory stays
    bounded whatever the file announces.
    """
    limit = member_limit() if max_member_bytes is None else max_member_bytes
    current: dict[str, Any] | None = None
    current_bytes = 0
    name = ""
    total = stream_size(fileobj)
    # Bytes of the file left to read, when known: only a plain tar's sizes can be checked against it.
    remaining = None if total is None else total - _position(fileobj)
    try:
        stream, plain = _uncompressed(fileobj)
        for name, data in iter_tar_members(stream, limit, remaining if plain else None):
            match = _MEMBER_NAME.match(name)
            if match is None:
                raise CorpusError(f"{where}: unsafe or malformed member name {name!r}")
            key, field_name = match["key"], match["field"]
            if current is not None and current["__key__"] != key:
                yield current
                current, current_bytes = None, 0
            if current is None:
                current = {"__key__": key}
            if field_name in current:
                raise CorpusError(f"{where}: duplicate member {name!r}")
            current_bytes += len(data)
            if current_bytes > limit:
                raise CorpusError(
                    f"{where}: sample {key} holds over {limit:,} bytes by member {name!r} "
                    f"({MAX_MEMBER_BYTES_ENV} sets it)"
                )
            current[field_name] = data
    except (_DamagedTar, OSError, EOFError, zlib.error, lzma.LZMAError) as err:
        raise CorpusError(f"{where}: damaged tar: {err}") from None
    except (MemoryError, OverflowError) as err:  # e.g. while decompressing: never a traceback
        raise CorpusError(f"{where}: damaged tar: cannot read after member {name!r} ({type(err).__name__})") from None
    if current is not None:
        yield current


def _position(fileobj: IO[bytes]) -> int:
    try:
        return int(fileobj.tell())
    except (AttributeError, OSError, ValueError):
        return 0
