"""Integrity wherever a shard is read or sent (issue 19): `push` sends only the corpus's own regular
files, each checked against the manifest, and never over another recipe's files; the tar reader's
bounds as every command meets them; `verify` checks each sample's recipe and summarises per shard;
the training loader and `eval wds:` check shards against the manifest as they stream; the feature
cache follows the files; malformed manifests and undecodable images through the commands; a loader
whose every sample fails stops.

The corpora here are built by hand (a few 8x8 PNGs), so each test takes well under a second.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.corpus.encode import encode_image
from synthgen.corpus.format import (
    MANIFEST_NAME,
    Manifest,
    ShardRecord,
    encode_cls,
    sample_key,
    shard_sidecar_name,
    shard_tar_name,
    sidecar_beside,
)
from synthgen.corpus.push import push_corpus
from synthgen.corpus.storage import Destination
from synthgen.corpus.tar import MEMBER_MTIME, ShardWriter
from synthgen.errors import CorpusError, DataError
from synthgen.evaluate.datasets import dataset_name, load_dataset
from synthgen.train import data as train_data
from synthgen.train.data import ShardStream, SkipCounts, ViewPolicy, corpus_samples, open_corpus

SHA = "ab" * 32
OTHER = "cd" * 32


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def one_line_error(result) -> str:
    """The one `error: ...` line a command ended with (exit status 2, no traceback)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stderr.count("error: ") == 1, result.output
    return result.stderr.strip().splitlines()[-1]


def png(value: int) -> bytes:
    return encode_image(np.full((8, 8, 3), value % 256, np.uint8), "png")


def write_corpus(
    folder: Path,
    shards: tuple[int, ...] = (2, 2),
    recipe_sha256: str = SHA,
    sample_recipe: dict[int, str | None] | None = None,
    bad_images: tuple[int, ...] = (),
) -> Manifest:
    """A whole corpus of 8x8 PNG samples (json, cls = index % 2) with its sidecars and manifest.
    `sample_recipe`: the recipe sha256 some samples' json names instead (None: none named);
    `bad_images`: samples whose png is not an image."""
    folder.mkdir(parents=True, exist_ok=True)
    records, first = [], 0
    for k, n in enumerate(shards):
        with open(folder / shard_tar_name(k), "wb") as out:
            writer = ShardWriter(out)
            for i in range(first, first + n):
                meta: dict[str, Any] = {"key": sample_key(i), "index": i, "recipe_sha256": recipe_sha256}
                if sample_recipe and i in sample_recipe:
                    meta["recipe_sha256"] = sample_recipe[i]
                image = b"\x89PNG not really" * 4 if i in bad_images else png(30 * i)
                fields = {"png": image, "json": json.dumps(meta), "cls": encode_cls(i % 2)}
                writer.write({"__key__": sample_key(i), **fields})
            size, sha256 = writer.close()
        record = ShardRecord(k, shard_tar_name(k), recipe_sha256, first, n, size, sha256)
        (folder / shard_sidecar_name(k)).write_bytes(record.to_json())
        records.append(record)
        first += n
    recipe = {"name": "tiny", "views": 1, "image": {"size": [8, 8], "format": "png"}}
    manifest = Manifest.build(recipe, recipe_sha256, records, "0.1.0")
    (folder / MANIFEST_NAME).write_bytes(manifest.to_json())
    return manifest


def rebless(folder: Path, name: str) -> None:
    """Record a shard's current bytes in its sidecar and the manifest, as if it had been damaged
    before it was hashed: what is left to find is inside the shard (members, samples)."""
    data = (folder / name).read_bytes()
    size, sha256 = len(data), hashlib.sha256(data).hexdigest()
    sidecar = folder / sidecar_beside(name)
    if sidecar.exists():
        sidecar.write_text(json.dumps(json.loads(sidecar.read_text()) | {"filesize": size, "sha256": sha256}))
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    for entry in manifest["shardlist"]:
        if entry["url"] == name:
            entry.update(filesize=size, sha256=sha256)
    manifest["filesize"] = sum(entry["filesize"] for entry in manifest["shardlist"])
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))


def flip_a_byte(path: Path, offset: int = 600) -> None:
    """Same size, other bytes (inside the first member's data), and a later modification time."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    stat = path.stat()
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def bomb_header(name: str, size: int) -> bytes:
    """A ustar header, written by hand, announcing a member of `size` bytes in a base-256 size field
    (what GNU tar writes for sizes octal cannot hold): the tar bomb costs 512 bytes."""
    info = tarfile.TarInfo(name)
    info.mtime = MEMBER_MTIME
    header = bytearray(info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict"))
    field = bytearray(size.to_bytes(12, "big"))
    field[0] |= 0x80
    header[124:136] = field
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


def remote_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


# -- S3: push sends only the corpus's own regular files, each as the manifest records it --------------


@pytest.mark.parametrize("which", ["shard-000001.tar", "shard-000001.json", MANIFEST_NAME])
def test_push_refuses_a_symlink_in_the_corpus(tmp_path: Path, which: str):
    corpus, remote = tmp_path / "corpus", tmp_path / "remote"
    write_corpus(corpus)
    secret = tmp_path / "secret.txt"
    secret.write_bytes((corpus / which).read_bytes() if which == MANIFEST_NAME else b"SECRET key material")
    (corpus / which).unlink()
    (corpus / which).symlink_to(secret)
    line = one_line_error(invoke("push", str(corpus), str(remote)))
    assert line == f"error: {corpus}/{which}: is a symlink; push uploads only the corpus's own regular files", line
    assert remote_files(remote) == {}  # refused before anything went up


def test_push_refuses_a_shard_that_is_not_a_regular_file(tmp_path: Path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    (corpus / "shard-000001.tar").unlink()
    (corpus / "shard-000001.tar").mkdir()
    line = one_line_error(invoke("push", str(corpus), str(tmp_path / "remote")))
    assert "shard-000001.tar: not a regular file" in line
    assert remote_files(tmp_path / "remote") == {}


def test_push_refuses_a_shard_of_another_size_before_uploading_anything(tmp_path: Path):
    corpus, remote = tmp_path / "corpus", tmp_path / "remote"
    write_corpus(corpus)
    with open(corpus / "shard-000001.tar", "ab") as out:
        out.write(b"\0" * 512)
    line = one_line_error(invoke("push", str(corpus), str(remote)))
    assert f"{corpus}/shard-000001.tar: size" in line and "the manifest says" in line and "nothing was uploaded" in line
    assert remote_files(remote) == {}


def test_push_stops_at_a_shard_whose_sha256_differs_and_never_sends_the_manifest(tmp_path: Path):
    corpus, remote = tmp_path / "corpus", tmp_path / "remote"
    write_corpus(corpus)
    flip_a_byte(corpus / "shard-000001.tar")
    line = one_line_error(invoke("push", str(corpus), str(remote)))
    assert line.startswith(f"error: {corpus}/shard-000001.tar: sha256 differs from the manifest"), line
    there = remote_files(remote)
    assert MANIFEST_NAME not in there and "shard-000001.tar" not in there and "shard-000001.json" not in there
    # What did go up is whole: the other shard, as the manifest records it.
    assert all(there[name] == (corpus / name).read_bytes() for name in there)


def test_push_refuses_a_shard_changed_while_it_was_uploaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    corpus, remote = tmp_path / "corpus", tmp_path / "remote"
    write_corpus(corpus, shards=(2,))
    upload = Destination.upload

    def upload_then_rewrite(self, local_path, name, md5=None):
        upload(self, local_path, name, md5)
        if name == "shard-000000.tar":  # another process replaces the file under the push
            Path(local_path).write_bytes(Path(local_path).read_bytes())
            os.utime(local_path, ns=(0, 0))

    monkeypatch.setattr(Destination, "upload", upload_then_rewrite)
    with pytest.raises(CorpusError, match="shard-000000.tar: changed while it was uploaded; push again"):
        push_corpus(str(corpus), str(remote))
    assert "shard-000000.tar" not in remote_files(remote) and MANIFEST_NAME not in remote_files(remote)


# -- D8: push never overwrites another recipe's files unless told -------------------------------------


def test_push_refuses_a_destination_of_another_recipe_as_render_does(tmp_path: Path):
    corpus, remote = tmp_path / "corpus", tmp_path / "remote"
    write_corpus(corpus)
    write_corpus(remote, shards=(2, 2, 2), recipe_sha256=OTHER)
    (remote / MANIFEST_NAME).unlink()  # a partial corpus of another recipe
    before = remote_files(remote)
    line = one_line_error(invoke("push", str(corpus), str(remote)))
    assert line == (
        f"error: {remote}: holds shards of another recipe (sha256 {OTHER[:12]}, this recipe {SHA[:12]}); "
        "push elsewhere or pass --overwrite"
    ), line
    assert remote_files(remote) == before
    write_corpus(remote, shards=(2, 2, 2), recipe_sha256=OTHER)  # and a complete one
    line = one_line_error(invoke("push", str(corpus), str(remote)))
    assert f"{remote}: holds a complete corpus of another recipe (sha256 {OTHER[:12]}" in line

    pushed = invoke("push", str(corpus), str(remote), "--overwrite")
    assert pushed.exit_code == 0, pushed.output
    assert "removed 7 files of another recipe" in pushed.stdout  # its manifest, 3 sidecars, 3 shards
    assert sorted(remote_files(remote)) == sorted(remote_files(corpus))
    assert invoke("verify", str(remote)).exit_code == 0


def test_push_to_a_bucket_refuses_another_recipe_and_a_damaged_shard(tmp_path: Path, s3_bucket):
    bucket, options = s3_bucket
    endpoint = ["--storage-option", f"endpoint_url={options['endpoint_url']}"]
    url = f"s3://{bucket}/corpus"
    other = tmp_path / "other"
    write_corpus(other, shards=(2, 2, 2), recipe_sha256=OTHER)
    (other / MANIFEST_NAME).unlink()
    fs = Destination(url, options).fs
    for path in other.iterdir():  # a partial corpus of another recipe in the bucket
        fs.put_file(str(path), f"{bucket}/corpus/{path.name}")
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    line = one_line_error(invoke("push", str(corpus), url, *endpoint))
    assert f"{url}: holds shards of another recipe (sha256 {OTHER[:12]}" in line
    flip_a_byte(corpus / "shard-000001.tar")
    line = one_line_error(invoke("push", str(corpus), url, "--overwrite", *endpoint))
    assert "shard-000001.tar: sha256 differs from the manifest" in line
    assert not fs.exists(f"{bucket}/corpus/{MANIFEST_NAME}")  # the bucket never looks complete
    write_corpus(corpus)  # repaired
    assert invoke("push", str(corpus), url, "--overwrite", *endpoint).exit_code == 0
    assert invoke("verify", url, *endpoint).exit_code == 0
    assert sorted(fs.ls(f"{bucket}/corpus", detail=False)) == sorted(
        f"{bucket}/corpus/{path.name}" for path in corpus.iterdir()
    )


def test_push_resumes_over_its_own_files(tmp_path: Path):
    corpus, remote = tmp_path / "corpus", tmp_path / "remote"
    write_corpus(corpus)
    remote.mkdir()
    for name in ("shard-000000.tar", "shard-000000.json"):  # an interrupted push of this corpus
        shutil.copy(corpus / name, remote / name)
    summary = push_corpus(str(corpus), str(remote))
    assert (summary.uploaded, summary.skipped, summary.removed) == (3, 2, 0)


# -- S5: the tar reader's bounds, as the commands meet them ------------------------------------------


@pytest.fixture
def bomb_corpus(tmp_path: Path) -> Path:
    """A corpus whose second shard announces a member of 2**80 bytes in 1.5 KiB (recorded in the
    manifest, so that every reader gets to read it)."""
    folder = tmp_path / "corpus"
    write_corpus(folder, shards=(2, 2, 2))
    (folder / "shard-000001.tar").write_bytes(bomb_header("000000000002.png", 2**80) + b"\0" * 1024)
    rebless(folder, "shard-000001.tar")
    return folder


def test_verify_inspect_and_eval_refuse_a_tar_bomb_in_one_line(bomb_corpus: Path):
    result = invoke("verify", str(bomb_corpus))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "shard-000001.tar: 2 problems, the first: damaged tar: member '000000000002.png' announces" in result.stdout
    line = one_line_error(invoke("inspect", str(bomb_corpus), "--count", "0"))
    assert f"{bomb_corpus}/shard-000001.tar: damaged tar: member '000000000002.png' announces" in line
    assert "over the limit of 268,435,456 (SYNTHGEN_MAX_MEMBER_BYTES sets it)" in line
    with pytest.raises(CorpusError, match="shard shard-000001.tar: damaged tar: member '000000000002.png' announces"):
        load_dataset(f"wds:{bomb_corpus}")


def test_the_training_loader_skips_and_counts_a_tar_bomb(bomb_corpus: Path):
    counts = SkipCounts()
    keys = [s["__key__"] for s in corpus_samples(open_corpus(str(bomb_corpus)), 0, 1, 0, counts, {}, passes=1)]
    assert sorted(keys) == [sample_key(i) for i in (0, 1, 4, 5)]
    assert (counts.bad_shards, counts.bad_samples) == (1, 0)


# -- D5 and the verify summary ------------------------------------------------------------------------


def test_verify_checks_that_every_sample_is_of_the_manifests_recipe(tmp_path: Path):
    folder = tmp_path / "corpus"
    write_corpus(folder, shards=(2, 2, 2), sample_recipe={2: OTHER, 3: OTHER, 5: None})
    result = invoke("verify", str(folder), "--decode")
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[:2] == [
        f"shard-000001.tar: 2 problems, the first: sample 000000000002: json names recipe sha256 {OTHER[:12]}, "
        f"the manifest's recipe is {SHA[:12]}",
        f"shard-000002.tar: sample 000000000005: json names no recipe_sha256, the manifest's recipe is {SHA[:12]}",
    ]
    assert result.stdout.splitlines()[2] == f"{folder}: NOT whole: 3 problems in 2 files"


def test_verify_says_one_line_per_damaged_shard_and_all_of_them_with_all(tmp_path: Path):
    folder = tmp_path / "corpus"
    write_corpus(folder, shards=(40, 40))
    # Swapped: each of 40 samples has its key and its json out of place, and the sha256 differs.
    shutil.copy(folder / "shard-000000.tar", folder / "shard-000001.tar")
    result = invoke("verify", str(folder))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith(
        "shard-000001.tar: 81 problems, the first: sample 000000000000: key out of place (expected 000000000040)"
    ), lines[0]
    assert lines[1] == f"{folder}: NOT whole: 81 problems in 1 files"
    every = invoke("verify", str(folder), "--all").stdout.splitlines()
    assert len(every) == 82 and every[-2] == "shard-000001.tar: sha256 differs from the manifest: the shard is damaged"


# -- D6: the training loader and eval check shards against the manifest as they stream ----------------


def test_the_loader_skips_a_shard_of_another_size_unread(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    folder = tmp_path / "corpus"
    write_corpus(folder, shards=(2, 2))
    with open(folder / "shard-000001.tar", "ab") as out:
        out.write(b"\0" * 1024)  # still a readable tar: only the size tells
    counts = SkipCounts()
    caplog.set_level("WARNING", logger="synthgen.train.data")
    keys = [s["__key__"] for s in corpus_samples(open_corpus(str(folder)), 0, 1, 0, counts, {}, passes=1)]
    assert sorted(keys) == [sample_key(0), sample_key(1)] and counts.bad_shards == 1
    assert f"skipping {folder}/shard-000001.tar unread: size" in caplog.text and "the manifest says" in caplog.text


def test_the_loader_counts_a_shard_whose_sha256_differs(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    folder = tmp_path / "corpus"
    write_corpus(folder, shards=(2, 2))
    clean = SkipCounts()
    assert len(list(corpus_samples(open_corpus(str(folder)), 0, 1, 0, clean, {}, passes=1))) == 4
    assert clean.bad_shards == 0
    flip_a_byte(folder / "shard-000001.tar")
    counts = SkipCounts()
    caplog.set_level("WARNING", logger="synthgen.train.data")
    # The sha256 is known at the shard's end: its samples have been served by then, and are counted.
    assert len(list(corpus_samples(open_corpus(str(folder)), 0, 1, 0, counts, {}, passes=1))) == 4
    assert counts.bad_shards == 1
    assert f"counting {folder}/shard-000001.tar as bad, its samples already used: sha256 differs" in caplog.text


@pytest.mark.parametrize("damage", ["size", "sha256"])
def test_eval_refuses_a_shard_that_differs_from_the_manifest(tmp_path: Path, damage: str):
    folder = tmp_path / "corpus"
    write_corpus(folder, shards=(2, 2))
    if damage == "size":
        with open(folder / "shard-000001.tar", "ab") as out:
            out.write(b"\0" * 1024)
        expected = "shard shard-000001.tar: size 11264 bytes, the manifest says 10240"
    else:
        flip_a_byte(folder / "shard-000001.tar")
        expected = "shard shard-000001.tar: sha256 differs from the manifest: the shard is damaged or replaced"
    with pytest.raises(CorpusError, match=expected):
        load_dataset(f"wds:{folder}")
    line = one_line_error(invoke("eval", "--checkpoint", "pixels@8", "--dataset", f"wds:{folder}", "--no-cache"))
    assert expected in line


# -- D7: the feature cache's key follows the shards -------------------------------------------------------


def test_the_name_of_a_wds_dataset_follows_its_shards_under_an_unchanged_manifest(tmp_path: Path):
    folder = tmp_path / "corpus"
    write_corpus(folder, shards=(2, 2))
    spec = f"wds:{folder}"
    before = dataset_name(spec)
    assert dataset_name(spec) == before == load_dataset(spec).name
    flip_a_byte(folder / "shard-000001.tar")  # the manifest, and the shard's size, as they were
    assert dataset_name(spec) != before
    pattern = f"wds:{folder}/shard-{{000000..000001}}.tar"  # no manifest read: sizes and times
    named = dataset_name(pattern)
    flip_a_byte(folder / "shard-000000.tar")
    assert dataset_name(pattern) != named


# -- C5: malformed manifest fields through every command that reads one --------------------------------


def _deep(data: dict[str, Any]) -> Any:
    return "[" * 100_000  # deeper than the JSON parser's stack


HOSTILE: dict[str, tuple[Any, str]] = {
    "missing sha256": (
        lambda d: d["shardlist"][0].pop("sha256") and None,
        "manifest.json: shardlist[0].sha256: missing",
    ),
    "integer url": (lambda d: d["shardlist"][1].update(url=7), "manifest.json: shardlist[1].url: expected a string"),
    "recipe a list": (lambda d: d.update(recipe=["tiny"]), "manifest.json: recipe: expected an object"),
    "views a string": (lambda d: d["recipe"].update(views="1"), "manifest.json: recipe.views: expected an integer"),
    "image a string": (lambda d: d["recipe"].update(image="png"), "manifest.json: recipe.image: expected an object"),
    "nested too deep": (_deep, "manifest.json: not valid JSON (nested too deep)"),
}


@pytest.mark.parametrize("command", ["render", "validate", "verify", "inspect", "preview"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_malformed_manifest_is_one_line_in_every_command(tmp_path: Path, command: str, case: str):
    folder = tmp_path / "corpus"
    write_corpus(folder)
    change, expected = HOSTILE[case]
    data = json.loads((folder / MANIFEST_NAME).read_text())
    changed = change(data)
    (folder / MANIFEST_NAME).write_text(changed if isinstance(changed, str) else json.dumps(data))
    recipe = tmp_path / "recipe.yaml"
    document: dict[str, Any] = {"name": "probe", "count": 4, "image": {"size": 8, "format": "png"}}
    if command == "validate":  # a recipe of real images read from the corpus
        document["source"] = {"kind": "dataset", "dataset": f"wds:{folder}", "split": "all"}
    else:  # rendering into the corpus's folder reads its manifest first
        document["source"] = {"kind": "noise", "model": "spectrum"}
    recipe.write_text(yaml.safe_dump(document))
    args = {
        "render": ["render", str(recipe), "--out", str(folder), "--quiet"],
        "validate": ["validate", str(recipe)],
        "verify": ["verify", str(folder)],
        "inspect": ["inspect", str(folder)],
        "preview": ["preview", str(folder), "--out", str(tmp_path / "sheet.png")],
    }[command]
    line = one_line_error(invoke(*args))
    assert f"{folder}/{expected}" in line, line


# -- C6: an undecodable image costs itself in inspect and preview --------------------------------------


def test_inspect_and_preview_name_an_undecodable_sample_and_go_on(tmp_path: Path):
    folder = tmp_path / "corpus"
    write_corpus(folder, shards=(2, 2), bad_images=(2,))
    inspected = invoke("inspect", str(folder), "--json", "--count", "0")
    assert inspected.exit_code == 0, inspected.output
    images = json.loads(inspected.stdout)["images"]
    named = "shard-000001.tar: sample 000000000002: not an image format Pillow reads"
    assert images["decoded"] == 3 and images["undecodable"] == 1 and images["first_undecodable"].startswith(named)
    assert f"warning: skipping an undecodable sample: {named}" in inspected.stderr
    assert "undecodable 1 samples, the first: " + named in invoke("inspect", str(folder)).stdout
    sheet = tmp_path / "sheet.png"
    previewed = invoke("preview", str(folder), "--out", str(sheet))
    assert previewed.exit_code == 0 and sheet.exists(), previewed.output
    assert f"wrote {sheet}: 3 samples" in previewed.stdout and named in previewed.stderr


def test_preview_of_nothing_decodable_is_one_line(tmp_path: Path):
    folder = tmp_path / "corpus"
    write_corpus(folder, shards=(2,), bad_images=(0, 1))
    line = one_line_error(invoke("preview", str(folder), "--out", str(tmp_path / "sheet.png")))
    assert "none of the first 64 samples decodes (the first: shard-000000.tar: sample 000000000000: " in line


# -- C10: a loader whose every sample fails stops -------------------------------------------------------------


def test_a_loader_whose_every_sample_fails_stops_with_the_last_error(tmp_path: Path, monkeypatch):
    folder = tmp_path / "corpus"
    write_corpus(folder, shards=(2, 2))

    def broken(sample, policy, rng):
        raise RuntimeError("a bug in decoding")

    monkeypatch.setattr(train_data, "to_example", broken)
    stream = ShardStream([open_corpus(str(folder))], ViewPolicy(1, False, (8, 8), False), 4, shuffle_buffer=4)
    started = time.monotonic()
    with pytest.raises(DataError, match=r"100 samples in a row failed: .* the last: sample \d+: RuntimeError: a bug"):
        next(iter(stream))
    assert time.monotonic() - started < 10
