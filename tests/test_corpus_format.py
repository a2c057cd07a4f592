"""The corpus format (synthgen/corpus/format.py): the one `cls` rule, sample keys, view fields, and
the manifest and sidecar parsers, which refuse every malformed field with one line naming the file
and the field, also through `synthgen verify`, `inspect` and `preview` (hostile manifests)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.corpus.encode import encode_image
from synthgen.corpus.format import (
    IMAGE_FORMATS,
    KEY_DIGITS,
    MANIFEST_NAME,
    Manifest,
    ShardRecord,
    image_fields,
    parse_cls,
    parse_sample_key,
    parse_view_field,
    sample_key,
    shard_sidecar_name,
    shard_tar_name,
    view_field,
)
from synthgen.corpus.tar import ShardWriter
from synthgen.errors import CorpusError

# -- cls --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "label"), [(b"7", 7), (b"-3", -3), (b"0", 0), (b"120", 120)])
def test_cls_accepts_an_optional_minus_then_ascii_digits(data: bytes, label: int):
    assert parse_cls(data) == label


@pytest.mark.parametrize(
    "data",
    [b" 7", b"7 ", b"7\n", b"7.0", b"+7", b"", b"-", b"--3", b"1_0", "٧".encode(), "²".encode(), "７".encode()],
    ids=repr,
)
def test_cls_refuses_anything_else_naming_the_shard_and_key(data: bytes):
    where = "shard-000001.tar: sample 000000000009"
    with pytest.raises(CorpusError, match=r"^shard-000001\.tar: sample 000000000009: cls is not an integer") as err:
        parse_cls(data, where)
    assert "\n" not in str(err.value)


# -- keys and names ---------------------------------------------------------------------------------


def test_keys_are_the_index_in_twelve_digits_and_sort_in_sample_order():
    assert KEY_DIGITS == 12
    assert sample_key(0) == "000000000000" and sample_key(42) == "000000000042"
    indices = [0, 7, 99, 10**11, 10**12 - 1, 10**12]
    keys = [sample_key(i) for i in indices]
    # Within 12 digits (a recipe counts at most 10**12 samples) keys sort as their indices do.
    assert all(len(k) == KEY_DIGITS for k in keys[:-1]) and sorted(keys[:-1]) == keys[:-1]
    assert [parse_sample_key(k, "here") for k in keys] == indices


@pytest.mark.parametrize("key", ["42", "00000000004a", "0000000000042", " 00000000042", "part-00000001"])
def test_a_key_that_is_no_sample_index_is_refused(key: str):
    with pytest.raises(CorpusError, match=f"^here: key '{key}' is not a sample index$"):
        parse_sample_key(key, "here")


def test_shard_names():
    assert (shard_tar_name(3), shard_sidecar_name(3)) == ("shard-000003.tar", "shard-000003.json")
    assert shard_tar_name(1234567) == "shard-1234567.tar"


# -- view fields ------------------------------------------------------------------------------------


def test_view_fields_round_trip():
    assert view_field(0, "png") == "png" and view_field(2, "jpg") == "view2.jpg"
    for fmt in IMAGE_FORMATS:
        for view in range(12):
            assert parse_view_field(view_field(view, fmt)) == (view, fmt)
    for name in ("json", "cls", "txt", "view0.jpg", "view1.txt", "view01.png", "viewx.png", "jpeg"):
        assert parse_view_field(name) is None, name
    assert parse_view_field("jpeg", formats=("jpeg",)) == (0, "jpeg")


def test_image_fields_are_the_views_in_order_up_to_the_first_missing():
    sample = {"__key__": "k", "json": b"{}", "view2.png": b"", "png": b"", "view1.png": b"", "view4.png": b""}
    assert image_fields(sample) == ["png", "view1.png", "view2.png"]
    assert image_fields({"__key__": "k", "json": b"{}", "cls": b"1"}) == []
    assert image_fields({"webp": b"", "jpg": b""}) == ["jpg"]  # one format per sample: the first found


# -- manifest and sidecar ---------------------------------------------------------------------------

SHA = "ab" * 32
RECIPE = {"name": "tiny", "views": 2, "image": {"size": [8, 8], "format": "png", "quality": 95}, "count": 5}


def records(sizes: tuple[int, ...] = (3, 2)) -> list[ShardRecord]:
    found, first = [], 0
    for k, n in enumerate(sizes):
        found.append(ShardRecord(k, shard_tar_name(k), SHA, first, n, 1024 * (k + 1), f"{k:x}" * 64, 0.5, {"nan": k}))
        first += n
    return found


def manifest_dict() -> dict[str, Any]:
    return json.loads(Manifest.build(RECIPE, SHA, records(), "0.1.0").to_json())


def test_a_manifest_round_trips():
    manifest = Manifest.build(RECIPE, SHA, records(), "0.1.0")
    assert (manifest.nsamples, manifest.nimages, manifest.nshards, manifest.filesize) == (5, 10, 2, 3072)
    assert manifest.failures == {"nan": 1} and manifest.views == 2
    assert manifest.image_format == "png" and manifest.image_size == (8, 8)
    again = Manifest.parse(manifest.to_json(), "m.json")
    assert again == manifest and again.to_json() == manifest.to_json()
    data = json.loads(manifest.to_json())
    assert data["wids_version"] == 1 and data["__kind__"] == "wids-shard-index-v1"
    assert data["shardlist"][1] == {"url": "shard-000001.tar", "nsamples": 2, "filesize": 2048, "sha256": "1" * 64}


def _set(path: str, value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for part in parents:
            data = data[int(part)] if isinstance(data, list) else data[part]
        if value is _DELETE:
            del data[last]
        else:
            data[int(last) if isinstance(data, list) else last] = value

    return change


_DELETE = object()
HOSTILE = {
    "missing sha256": (_set("shardlist.0.sha256", _DELETE), "shardlist[0].sha256: missing"),
    "integer url": (_set("shardlist.1.url", 5), "shardlist[1].url: expected a string, got 5"),
    "empty url": (_set("shardlist.1.url", ""), "shardlist[1].url: expected a string"),
    "sha256 not hex": (_set("shardlist.0.sha256", "x" * 64), "shardlist[0].sha256: expected a sha256"),
    "negative nsamples": (_set("shardlist.0.nsamples", -1), "shardlist[0].nsamples: expected an integer >= 0"),
    "string filesize": (_set("shardlist.0.filesize", "1024"), 'shardlist[0].filesize: expected an integer >= 0, got "'),
    "entry not an object": (_set("shardlist.0", "shard-000000.tar"), "shardlist[0]: expected an object"),
    "shardlist not a list": (_set("shardlist", {"url": "shard-000000.tar"}), "shardlist: expected a list"),
    "no shardlist": (_set("shardlist", _DELETE), "shardlist: missing"),
    "recipe not an object": (_set("recipe", "tiny"), 'recipe: expected an object, got "tiny"'),
    "views a string": (_set("recipe.views", "2"), 'recipe.views: expected an integer >= 1, got "2"'),
    "views zero": (_set("recipe.views", 0), "recipe.views: expected an integer >= 1, got 0"),
    "image not an object": (_set("recipe.image", [8, 8]), "recipe.image: expected an object, got [8, 8]"),
    "image format unknown": (_set("recipe.image.format", "gif"), "recipe.image.format: expected one of jpg, png, webp"),
    "image size a number": (_set("recipe.image.size", 8), "recipe.image.size: expected [width, height]"),
    "unknown format version": (_set("format_version", 2), "format_version: 2 is not a version this synthgen reads"),
    "another format": (_set("format", "other"), "format: \"other\" is not 'synthgen-corpus'"),
    "recipe sha256 a number": (_set("recipe_sha256", 7), "recipe_sha256: expected a sha256"),
    "nshards a boolean": (_set("nshards", True), "nshards: expected an integer >= 0, got true"),
    "failures a list": (_set("failures", ["nan"]), "failures: expected an object"),
    "failure count negative": (_set("failures.nan", -2), "failures.nan: expected an integer >= 0"),
    "totals disagree": (_set("nsamples", 6), "nsamples: 6, but the shardlist makes 5"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_each_malformed_manifest_field_is_one_line_naming_the_file_and_the_field(case: str):
    change, message = HOSTILE[case]
    data = manifest_dict()
    change(data)
    with pytest.raises(CorpusError) as err:
        Manifest.parse(json.dumps(data).encode(), "corpus/manifest.json")
    assert str(err.value).startswith(f"corpus/manifest.json: {message}"), str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"{not json", "not valid JSON"), (b"[]", "expected an object, got []"), (b"\xff\xfe", "not valid JSON")],
)
def test_a_manifest_that_is_no_json_object_is_refused(data: bytes, message: str):
    with pytest.raises(CorpusError, match=f"^m.json: {re.escape(message)}"):
        Manifest.parse(data, "m.json")


def test_a_sidecar_round_trips_and_refuses_malformed_fields():
    record = records()[1]
    assert ShardRecord.parse(record.to_json(), "s.json") == record
    assert record.to_json() == json.dumps(record.to_dict(), indent=1, sort_keys=True).encode() + b"\n"
    for field, value, message in [
        ("filesize", "2048", "filesize: expected an integer >= 0"),
        ("recipe_sha256", None, "recipe_sha256: expected a sha256"),
        ("render_seconds", "fast", "render_seconds: expected a number >= 0"),
        ("failures", {"nan": 1.5}, "failures.nan: expected an integer >= 0"),
        ("failure_subjects", {"p": 3}, "failure_subjects.p: expected a string"),
    ]:
        data = copy.deepcopy(record.to_dict()) | {field: value}
        with pytest.raises(CorpusError, match=f"^s.json: {re.escape(message)}"):
            ShardRecord.parse(json.dumps(data), "s.json")
    minimal = {k: v for k, v in record.to_dict().items() if k not in ("render_seconds", "failures", "failure_subjects")}
    assert ShardRecord.parse(json.dumps(minimal), "s.json").failures == {}  # the optional fields default


# -- the commands, on a hostile manifest -------------------------------------------------------------


@pytest.fixture
def hostile_corpus(tmp_path: Path) -> Path:
    """A tiny whole corpus whose manifest then names its first shard by an integer."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    image = encode_image(np.full((8, 8, 3), 128, np.uint8), "png")
    written = []
    for k in range(2):
        with open(folder / shard_tar_name(k), "wb") as out:
            writer = ShardWriter(out)
            for i in range(2 * k, 2 * k + 2):
                meta = json.dumps({"key": sample_key(i), "index": i, "recipe_sha256": SHA}).encode()
                writer.write({"__key__": sample_key(i), "png": image, "view1.png": image, "json": meta, "cls": b"1"})
            size, sha = writer.close()
        written.append(ShardRecord(k, shard_tar_name(k), SHA, 2 * k, 2, size, sha))
    manifest = Manifest.build(RECIPE, SHA, written, "0.1.0")
    (folder / MANIFEST_NAME).write_bytes(manifest.to_json())
    assert CliRunner().invoke(cli, ["verify", str(folder), "--decode"]).exit_code == 0  # whole, before the damage
    data = json.loads(manifest.to_json())
    data["shardlist"][0]["url"] = 0
    (folder / MANIFEST_NAME).write_text(json.dumps(data))
    return folder


@pytest.mark.parametrize("command", ["verify", "inspect", "preview"])
def test_commands_refuse_a_hostile_manifest_in_one_line(hostile_corpus: Path, tmp_path: Path, command: str):
    args = [command, str(hostile_corpus)] + (["--out", str(tmp_path / "sheet.png")] if command == "preview" else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stderr.count("error: ") == 1, result.output
    line = result.stderr.strip().splitlines()[-1]
    assert line == f"error: {hostile_corpus}/manifest.json: shardlist[0].url: expected a string, got 0", line
