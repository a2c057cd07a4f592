"""The project's one tar reader: every tar format of the field read right, anything unsafe refused."""

from __future__ import annotations

import gzip
import io
import tarfile
import tracemalloc
import zlib

import pytest

from synthgen.corpus import tar as tar_module
from synthgen.corpus.tar import MAX_MEMBER_BYTES_ENV, ShardWriter, iter_tar_samples
from synthgen.errors import CorpusError
from tests.test_integrity import bomb_header


def _tar(members: list[tuple[str, bytes]], fmt: int = tarfile.PAX_FORMAT, mtime: float = 1.5e9) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = mtime
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


MEMBERS = [
    ("000000000000.jpg", b"\xff\xd8 first image"),
    ("000000000000.json", b'{"index": 0}'),
    ("000000000001.jpg", b"x" * 1000),
    ("000000000001.cls", b"3"),
    ("k" * 120 + ".txt", b"a key longer than a ustar name field"),
]


@pytest.mark.parametrize(
    "fmt,mtime",
    [(tarfile.USTAR_FORMAT, 1.5e9), (tarfile.GNU_FORMAT, 1.5e9), (tarfile.PAX_FORMAT, 1.5e9 + 0.25)],
    ids=["ustar", "gnu", "pax-float-mtime"],  # webdataset's TarWriter gives pax headers on every member
)
def test_tars_of_every_format_read_as_tarfile_reads_them(fmt: int, mtime: float):
    members = MEMBERS if fmt != tarfile.USTAR_FORMAT else MEMBERS[:-1]  # ustar cannot hold the long name
    samples = list(iter_tar_samples(io.BytesIO(_tar(members, fmt, mtime))))
    flat = [(f"{s['__key__']}.{field}", data) for s in samples for field, data in s.items() if field != "__key__"]
    assert flat == members


def test_compressed_tars_are_read():
    samples = list(iter_tar_samples(io.BytesIO(gzip.compress(_tar(MEMBERS[:2])))))
    assert samples == [{"__key__": "000000000000", "jpg": MEMBERS[0][1], "json": MEMBERS[1][1]}]


def test_synthgen_shards_read_back():
    buffer = io.BytesIO()
    writer = ShardWriter(buffer)
    writer.write({"__key__": "000000000007", "png": b"\x89PNG", "cls": b"1"})
    writer.close()
    assert list(iter_tar_samples(io.BytesIO(buffer.getvalue()))) == [
        {"__key__": "000000000007", "png": b"\x89PNG", "cls": b"1"}
    ]


@pytest.mark.parametrize("name", ["../evil.jpg", "/etc/passwd.txt", "a/b.jpg", "noextension", ".hidden"])
def test_unsafe_member_names_are_refused(name: str):
    with pytest.raises(CorpusError, match="unsafe or malformed member name"):
        list(iter_tar_samples(io.BytesIO(_tar([(name, b"x")])), where="evil.tar"))


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE, tarfile.FIFOTYPE])
def test_members_that_are_not_regular_files_are_refused(kind: bytes):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("000000000000.jpg")
        info.type = kind
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(CorpusError, match=r"evil.tar: damaged tar: member '000000000000.jpg/?' is not a regular file"):
        list(iter_tar_samples(io.BytesIO(buffer.getvalue()), where="evil.tar"))


def test_cut_garbled_and_foreign_files_are_damaged():
    whole = _tar(MEMBERS[:4], tarfile.USTAR_FORMAT)
    for cut in (100, 512, 1024, 1500, 2048):  # inside a header, at block boundaries, inside data
        with pytest.raises(CorpusError, match="cut short"):
            list(iter_tar_samples(io.BytesIO(whole[:cut]), where="shard-000003.tar"))
    garbled = bytearray(whole)
    garbled[1100] ^= 0xFF  # inside the second header (the first member's data is one block)
    with pytest.raises(CorpusError, match="checksum"):
        list(iter_tar_samples(io.BytesIO(bytes(garbled))))
    with pytest.raises(CorpusError, match="damaged tar"):
        list(iter_tar_samples(io.BytesIO(b"not a tar at all" * 100)))
    compressed = gzip.compress(whole)
    with pytest.raises(CorpusError, match="damaged tar"):
        list(iter_tar_samples(io.BytesIO(compressed[: len(compressed) // 2])))


def test_a_duplicate_member_is_refused():
    with pytest.raises(CorpusError, match="duplicate member"):
        list(iter_tar_samples(io.BytesIO(_tar([MEMBERS[0], MEMBERS[0]]))))


@pytest.mark.parametrize("size", [b"abcde", b"-1234", "\u00b2".encode()])
def test_a_pax_size_that_is_not_a_byte_count_is_damage(size: bytes):
    record = b" size=" + size + b"\n"
    length = len(record) + 2  # two digits of length
    pax = str(length).encode() + record
    header = tarfile.TarInfo("././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = len(pax)
    member = tarfile.TarInfo("000000000000.json")
    member.size = 2
    data = header.tobuf(tarfile.USTAR_FORMAT) + pax + b"\0" * (-len(pax) % 512)
    data += member.tobuf(tarfile.USTAR_FORMAT) + b"{}" + b"\0" * 510 + b"\0" * 1024
    with pytest.raises(CorpusError, match="a pax header gives the size"):
        list(iter_tar_samples(io.BytesIO(data)))


# -- bounds: what a tar announces never decides what is allocated (issue 19, S5) ----------------------


def _peak_bytes(read) -> int:
    """The most memory Python allocated while `read()` ran (tracemalloc counts bytes objects)."""
    tracemalloc.start()
    try:
        read()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("size", [1_500_000_000, 2**80], ids=["octal-1.5GB", "base256-2**80"])
def test_a_member_over_the_limit_is_refused_before_it_is_read(size: int):
    bomb = bomb_header("000000000000.jpg", size) + b"\0" * 2048

    def read() -> None:
        with pytest.raises(CorpusError, match=r"^shard-000007.tar: damaged tar: member '000000000000.jpg' announces "):
            list(iter_tar_samples(io.BytesIO(bomb), where="shard-000007.tar"))

    assert _peak_bytes(read) < 1 << 20


def test_a_gzip_bomb_is_refused_at_its_header():
    # 1.5 GB announced; 16 MiB of zeros behind the header, compressed in chunks (16 KiB of gzip).
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(bomb_header("000000000000.jpg", 1_500_000_000))]
    parts += [packer.compress(bytes(1 << 20)) for _ in range(16)]
    bomb = b"".join(parts) + packer.flush()
    assert len(bomb) < 1 << 16

    def read() -> None:
        with pytest.raises(CorpusError, match="announces 1,500,000,000 bytes, over the limit of 268,435,456"):
            list(iter_tar_samples(io.BytesIO(bomb)))

    assert _peak_bytes(read) < 4 << 20


def test_a_member_larger_than_what_is_left_of_the_file_is_refused():
    cut = bomb_header("000000000000.jpg", 1 << 20) + b"\xff" * 4096
    with pytest.raises(CorpusError, match=r"cut short: member '000000000000.jpg' announces 1,048,576 bytes, 4,096 are"):
        list(iter_tar_samples(io.BytesIO(cut)))


def test_the_limit_is_set_by_the_environment_or_the_caller(monkeypatch: pytest.MonkeyPatch):
    tar = _tar([("000000000000.jpg", b"x" * 2000), ("000000000001.jpg", b"y")])
    monkeypatch.setenv(MAX_MEMBER_BYTES_ENV, "1000")
    with pytest.raises(CorpusError, match="announces 2,000 bytes, over the limit of 1,000 .SYNTHGEN_MAX_MEMBER_BYTES"):
        list(iter_tar_samples(io.BytesIO(tar)))
    assert len(list(iter_tar_samples(io.BytesIO(tar), max_member_bytes=2000))) == 2
    monkeypatch.setenv(MAX_MEMBER_BYTES_ENV, "lots")
    with pytest.raises(CorpusError, match="^SYNTHGEN_MAX_MEMBER_BYTES='lots': expected a positive number of bytes"):
        list(iter_tar_samples(io.BytesIO(tar)))


def test_a_sample_is_bounded_as_a_whole():
    fields = [(f"000000000000.view{n}.jpg", b"v" * 600) for n in range(1, 5)]
    with pytest.raises(CorpusError, match="sample 000000000000 holds over 2,000 bytes by member '000000000000.view4"):
        list(iter_tar_samples(io.BytesIO(_tar(fields)), max_member_bytes=2000))


@pytest.mark.parametrize("error", [MemoryError, OverflowError])
def test_memory_and_overflow_errors_name_the_shard_and_the_member(monkeypatch: pytest.MonkeyPatch, error: type):
    def fail(stream, size):
        raise error()

    monkeypatch.setattr(tar_module, "_read_exact", fail)
    with pytest.raises(CorpusError, match="^s.tar: damaged tar: member '000000000000.jpg' of 14 bytes cannot be read"):
        list(iter_tar_samples(io.BytesIO(_tar(MEMBERS[:1], tarfile.USTAR_FORMAT)), where="s.tar"))


def test_a_pax_size_of_thousands_of_digits_is_damage():
    record = b" size=" + b"9" * 5000 + b"\n"
    pax = str(len(record) + 4).encode() + record
    header = tarfile.TarInfo("././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = len(pax)
    member = tarfile.TarInfo("000000000000.json")  # the member the pax size would apply to
    data = header.tobuf(tarfile.USTAR_FORMAT) + pax + b"\0" * (-len(pax) % 512)
    data += member.tobuf(tarfile.USTAR_FORMAT) + b"\0" * 1024
    with pytest.raises(CorpusError, match="a pax header gives the size"):
        list(iter_tar_samples(io.BytesIO(data)))
