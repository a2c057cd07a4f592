"""The corpus format in one place: names, keys, fields, labels, the sidecar and the manifest.
Every writer and reader of a corpus takes them from here; nothing else spells them out.

A corpus is a folder (a local path or any fsspec URL):

    DEST/
      shard-000000.tar    samples [k*n, (k+1)*n): a POSIX tar of `{key}.{field}` members, one
                          sample's members consecutive (corpus/tar.py writes and reads them)
      shard-000000.json   its sidecar (ShardRecord), written after the tar: the shard is committed
                          when the sidecar exists, is of this recipe and matches the tar's size
      shard-000001.tar ...
      manifest.json       written last (Manifest): a corpus with a manifest is complete

A sample is one group, all views of one underlying thing. Its key is the sample index, zero-padded
to KEY_DIGITS digits (sample_key: `000000000042`), independent of the sharding. Its fields:

    jpg | png | webp     view 0 under the plain image extension, so any WebDataset reader sees it
    view1.jpg, ...       further views, in the same format (view_field)
    json                 metadata: key, index, recipe, recipe_sha256, kind, seed, attempt, ...
    cls                  an integer class: ASCII, an optional '-' then digits (parse_cls)
    txt                  the prompt (UTF-8), for families that have one

The manifest (`format: synthgen-corpus`, FORMAT_VERSION) records the resolved recipe and its
sha256, the counts, the failures, the programs excluded (`excluded`, from the sidecars), the
renders that made it (`history`: the count of each, which shards it kept and which it rendered,
so a corpus grown from 256 to 512 samples says so) and `shardlist: [{url, nsamples, filesize,
sha256}]` with `wids_version: 1`, so that it is also a wids index. The recipe sha256 leaves
`count` out (synthgen.recipe.Recipe.identity): the corpus is the hash and its count together.
Manifest.parse is its one reader and ShardRecord.parse the sidecar's: both refuse a malformed
field with one line naming the file and the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from synthgen.errors import CorpusError

MANIFEST_NAME = "manifest.json"
FORMAT_NAME = "synthgen-corpus"
FORMAT_VERSION = 1
# What makes the manifest a wids shard index too.
WIDS_KIND = "wids-shard-index-v1"
WIDS_VERSION = 1

# Sample keys: the index in at least this many digits, so that keys sort in sample order.
KEY_DIGITS = 12
IMAGE_FORMATS = ("jpg", "png", "webp")

SHARD_TAR = re.compile(r"^shard-(?P<index>\d{6,})\.tar$")
SHARD_SIDECAR = re.compile(r"^shard-(?P<index>\d{6,})\.json$")
_KEY = re.compile(rf"[0-9]{{{KEY_DIGITS},}}")
_VIEW_FIELD = re.compile(r"view(?P<view>[1-9][0-9]*)\.(?P<fmt>[A-Za-z0-9_]+)")
# Bytes patterns: [0-9] is ASCII only (str.isdigit would also take '²' or Arabic-Indic digits).
_CLS = re.compile(rb"-?[0-9]+")
_SHA256 = re.compile(r"[0-9a-f]{64}")


# -- names and keys ---------------------------------------------------------------------------------


def shard_tar_name(index: int) -> str:
    """`shard-000007.tar`: the tar of shard `index`."""
    return f"shard-{index:06d}.tar"


def shard_sidecar_name(index: int) -> str:
    """`shard-000007.json`: the sidecar of shard `index`."""
    return f"shard-{index:06d}.json"


def sidecar_beside(tar_name: str) -> str:
    """The sidecar name beside a tar (`.../shard-000007.tar` -> `.../shard-000007.json`)."""
    return tar_name.removesuffix(".tar") + ".json"


def sample_key(index: int) -> str:
    """The WebDataset key of sample `index`: digits only, fixed width, independent of sharding."""
    if index < 0:
        raise ValueError(f"a sample index is >= 0, got {index}")
    return f"{index:0{KEY_DIGITS}d}"


def parse_sample_key(key: str, where: str) -> int:
    """The sample index a key names; CorpusError (naming `where`) for any other key."""
    if _KEY.fullmatch(key) is None or sample_key(int(key)) != key:
        raise CorpusError(f"{where}: key {key!r} is not a sample index")
    return int(key)


# -- fields -----------------------------------------------------------------------------------------


def view_field(view: int, fmt: str) -> str:
    """The field of view `view` in image format `fmt`: `jpg` for view 0, then `view1.jpg`, ..."""
    if view < 0:
        raise ValueError(f"a view number is >= 0, got {view}")
    return fmt if view == 0 else f"view{view}.{fmt}"


def parse_view_field(name: str, formats: Iterable[str] = IMAGE_FORMATS) -> tuple[int, str] | None:
    """(view, format) of an image field name, or None when `name` is no view of `formats`."""
    formats = tuple(formats)
    if name in formats:
        return 0, name
    match = _VIEW_FIELD.fullmatch(name)
    if match is None or match["fmt"] not in formats:
        return None
    return int(match["view"]), match["fmt"]


def image_format(sample: Mapping[str, Any], formats: Iterable[str] = IMAGE_FORMATS) -> str | None:
    """The image format of a sample: the first of `formats` that is one of its fields (view 0)."""
    return next((fmt for fmt in formats if fmt in sample), None)


def view_fields(sample: Mapping[str, Any], fmt: str) -> list[str]:
    """The fields of all stored views, view 0 first: `jpg`, `view1.jpg`, `view2.jpg`, ... (up to
    the first view missing)."""
    fields = [fmt]
    while view_field(len(fields), fmt) in sample:
        fields.append(view_field(len(fields), fmt))
    return fields


def image_fields(sample: Mapping[str, Any], formats: Iterable[str] = IMAGE_FORMATS) -> list[str]:
    """Which fields of a sample are its images, in view order; [] when it has none."""
    fmt = image_format(sample, formats)
    return [] if fmt is None else view_fields(sample, fmt)


def encode_cls(label: int) -> bytes:
    """The `cls` field of a class label."""
    return str(int(label)).encode("ascii")


def cls_problem(data: bytes) -> str | None:
    """What is wrong with a `cls` field, or None when it is an integer (the one rule of parse_cls)."""
    if _CLS.fullmatch(data) is None:
        return f"cls is not an integer (an optional '-', then ASCII digits): {bytes(data[:20])!r}"
    return None


def parse_cls(data: bytes, where: str = "") -> int:
    """A sample's class from its `cls` field: an optional '-', then ASCII digits, nothing else (no
    spaces, no '+', no other digits). CorpusError otherwise, prefixed with `where` (the shard and
    key, as the caller names them)."""
    problem = cls_problem(data)
    if problem is not None:
        raise CorpusError(f"{where}: {problem}" if where else problem)
    return int(data)


# -- strict JSON fields -------------------------------------------------------------------------------


def _show(value: Any) -> str:
    """A value as JSON, shortened: what a message says was found."""
    text = json.dumps(value, default=repr)
    return text if len(text) <= 40 else text[:37] + "..."


class _Object:
    """One JSON object of a file; each accessor raises CorpusError naming the file and the field."""

    def __init__(self, value: Any, where: str, path: str = "") -> None:
        self.where = where
        self.path = path
        if not isinstance(value, dict):
            raise self.error("", f"expected an object, got {_show(value)}")
        self.value: dict[str, Any] = value

    def error(self, key: str, problem: str) -> CorpusError:
        name = f"{self.path}.{key}" if self.path and key else self.path or key
        return CorpusError(f"{self.where}: {name}: {problem}" if name else f"{self.where}: {problem}")

    def has(self, key: str) -> bool:
        return key in self.value

    def get(self, key: str) -> Any:
        if key not in self.value:
            raise self.error(key, "missing")
        return self.value[key]

    def get_int(self, key: str, minimum: int = 0) -> int:
        value = self.get(key)
        # bool is an int in Python, not in JSON.
        if type(value) is not int or value < minimum:
            raise self.error(key, f"expected an integer >= {minimum}, got {_show(value)}")
        return value

    def get_number(self, key: str) -> float:
        value = self.get(key)
        if type(value) not in (int, float) or not value >= 0:
            raise self.error(key, f"expected a number >= 0, got {_show(value)}")
        return float(value)

    def get_str(self, key: str, pattern: re.Pattern[str] | None = None, expected: str = "a string") -> str:
        value = self.get(key)
        if not isinstance(value, str) or not value or (pattern is not None and pattern.fullmatch(value) is None):
            raise self.error(key, f"expected {expected}, got {_show(value)}")
        return value

    def get_sha256(self, key: str) -> str:
        return self.get_str(key, _SHA256, "a sha256 (64 lowercase hex digits)")

    def get_object(self, key: str) -> _Object:
        return _Object(self.get(key), self.where, f"{self.path}.{key}" if self.path else key)

    def get_list(self, key: str) -> list[Any]:
        value = self.get(key)
        if not isinstance(value, list):
            raise self.error(key, f"expected a list, got {_show(value)}")
        return value

    def get_counts(self, key: str) -> dict[str, int]:
        """An object of non-negative integers (failures by reason)."""
        found = self.get_object(key)
        return {name: found.get_int(name) for name in found.value}

    def get_texts(self, key: str) -> dict[str, str]:
        """An object of strings (a message per culprit)."""
        found = self.get_object(key)
        for name, value in found.value.items():
            if not isinstance(value, str):
                raise found.error(name, f"expected a string, got {_show(value)}")
        return dict(found.value)


def _load(data: bytes | str | Mapping[str, Any], where: str) -> Any:
    if isinstance(data, Mapping):
        return dict(data)
    try:
        return json.loads(data)
    except ValueError as err:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        raise CorpusError(f"{where}: not valid JSON ({err})") from None
    except RecursionError:  # nesting deeper than the parser's stack: no manifest looks like that
        raise CorpusError(f"{where}: not valid JSON (nested too deep)") from None


# -- the sidecar ------------------------------------------------------------------------------------


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
    # The culprits left out of the rest of the render after failing (a program that does not
    # compile, hangs or crashes): id -> reason. Every one of the shard's, uncapped.
    excluded: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> bytes:
        """The sidecar file's bytes."""
        return json.dumps(self.to_dict(), indent=1, sort_keys=True).encode() + b"\n"

    @classmethod
    def parse(cls, data: bytes | str | Mapping[str, Any], where: str) -> ShardRecord:
        """A sidecar from its file's bytes (or parsed JSON); CorpusError naming `where` and the field."""
        doc = _Object(_load(data, where), where)
        return cls(
            shard=doc.get_int("shard"),
            url=doc.get_str("url"),
            recipe_sha256=doc.get_sha256("recipe_sha256"),
            first_index=doc.get_int("first_index"),
            nsamples=doc.get_int("nsamples"),
            filesize=doc.get_int("filesize"),
            sha256=doc.get_sha256("sha256"),
            render_seconds=doc.get_number("render_seconds") if doc.has("render_seconds") else 0.0,
            failures=doc.get_counts("failures") if doc.has("failures") else {},
            failure_subjects=doc.get_texts("failure_subjects") if doc.has("failure_subjects") else {},
            excluded=doc.get_texts("excluded") if doc.has("excluded") else {},
        )


# The first this many characters of an excluded program's message go into the manifest (the
# sidecar that saw it first holds it whole).
EXCLUDED_MESSAGE_CHARS = 200


def excluded_programs(records: Iterable[ShardRecord]) -> list[dict[str, str]]:
    """The culprits excluded in any of `records` (shard order), once each, sorted by id:
    `{id, reason, message}`, the reason and message of the first shard that excluded it."""
    found: dict[str, dict[str, str]] = {}
    for record in records:
        for subject, reason in record.excluded.items():
            if subject not in found:
                message = record.failure_subjects.get(subject, "").removeprefix(f"{reason}: ")
                found[subject] = {"id": subject, "reason": reason, "message": message[:EXCLUDED_MESSAGE_CHARS]}
    return [found[subject] for subject in sorted(found)]


def shard_ranges(indices: Iterable[int]) -> list[list[int]]:
    """Shard indices as `[first, stop)` ranges, in order: {0, 1, 2, 5} -> [[0, 3], [5, 6]]."""
    ranges: list[list[int]] = []
    for index in sorted(set(indices)):
        if ranges and ranges[-1][1] == index:
            ranges[-1][1] = index + 1
        else:
            ranges.append([index, index + 1])
    return ranges


def history_entry(count: int, synthgen_version: str, kept: Iterable[int], nshards: int) -> dict[str, Any]:
    """One render of a corpus, as its manifest's `history` records it: the count rendered to, the
    synthgen that did it, the shards it kept from the corpus it grew and those it rendered (an
    interrupted run of it included), as `[first, stop)` ranges of shard indices. No date, no
    trace of interruptions: rendering a recipe twice, or resuming it, gives the same manifest."""
    kept = set(kept)
    return {
        "count": count,
        "synthgen_version": synthgen_version,
        "kept": shard_ranges(kept),
        "rendered": shard_ranges(index for index in range(nshards) if index not in kept),
    }


# -- the manifest -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardEntry:
    """One shard of a manifest's `shardlist` (the wids index entry)."""

    url: str
    nsamples: int
    filesize: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Manifest:
    """`manifest.json`: a complete corpus. Parse it with Manifest.parse, write it with to_json."""

    name: str
    synthgen_version: str
    recipe_sha256: str
    recipe: dict[str, Any]  # the resolved recipe
    nsamples: int
    nimages: int
    nshards: int
    filesize: int
    failures: dict[str, int]
    shardlist: tuple[ShardEntry, ...]
    # The renders that made the corpus, oldest first (history_entry); empty from an older synthgen.
    history: tuple[dict[str, Any], ...] = ()
    # The programs excluded (excluded_programs): each once, {id, reason, message}.
    excluded: tuple[dict[str, str], ...] = ()
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION
    wids_version: int = WIDS_VERSION
    kind: str = WIDS_KIND  # the `__kind__` key

    @property
    def views(self) -> int:
        return int(self.recipe["views"])

    @property
    def image_format(self) -> str:
        """The image format of every view (the recipe's default, jpg, when it names none)."""
        return str(self.recipe.get("image", {}).get("format", "jpg"))

    @property
    def image_size(self) -> tuple[int, int] | None:
        """(width, height) of every image, when the recipe records it."""
        size = self.recipe.get("image", {}).get("size")
        return None if size is None else (int(size[0]), int(size[1]))

    @classmethod
    def build(
        cls,
        recipe: Mapping[str, Any],
        recipe_sha256: str,
        records: list[ShardRecord],
        synthgen_version: str,
        history: Iterable[Mapping[str, Any]] = (),
    ) -> Manifest:
        """The manifest of a corpus whose shards are `records`, in shard order, made by the renders
        of `history` (history_entry, oldest first)."""
        failures: dict[str, int] = {}
        for record in records:
            for reason, n in record.failures.items():
                failures[reason] = failures.get(reason, 0) + n
        nsamples = sum(r.nsamples for r in records)
        return cls(
            name=recipe["name"],
            synthgen_version=synthgen_version,
            recipe_sha256=recipe_sha256,
            recipe=dict(recipe),
            nsamples=nsamples,
            nimages=nsamples * recipe["views"],
            nshards=len(records),
            filesize=sum(r.filesize for r in records),
            failures=dict(sorted(failures.items())),
            shardlist=tuple(ShardEntry(r.url, r.nsamples, r.filesize, r.sha256) for r in records),
            history=tuple(dict(entry) for entry in history),
            excluded=tuple(excluded_programs(records)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "__kind__": self.kind,
            "wids_version": self.wids_version,
            "format": self.format,
            "format_version": self.format_version,
            "name": self.name,
            "synthgen_version": self.synthgen_version,
            "recipe_sha256": self.recipe_sha256,
            "recipe": self.recipe,
            "nsamples": self.nsamples,
            "nimages": self.nimages,
            "nshards": self.nshards,
            "filesize": self.filesize,
            "failures": self.failures,
            "excluded": [dict(entry) for entry in self.excluded],
            "history": [dict(entry) for entry in self.history],
            "shardlist": [entry.to_dict() for entry in self.shardlist],
        }

    def to_json(self) -> bytes:
        """The manifest file's bytes."""
        return json.dumps(self.to_dict(), indent=1, sort_keys=True).encode() + b"\n"

    @classmethod
    def parse(cls, data: bytes | str | Mapping[str, Any], where: str) -> Manifest:
        """A manifest from its file's bytes (or parsed JSON), every field checked: CorpusError, one
        line naming `where` (the file) and the field, for anything malformed. Unknown keys are
        ignored (a wids reader may add its own)."""
        doc = _Object(_load(data, where), where)
        if doc.get_str("format") != FORMAT_NAME:
            raise doc.error("format", f"{_show(doc.get('format'))} is not {FORMAT_NAME!r}: not a synthgen corpus")
        version = doc.get_int("format_version")
        if version != FORMAT_VERSION:
            raise doc.error(
                "format_version",
                f"{version} is not a version this synthgen reads ({FORMAT_VERSION}): a newer synthgen wrote it?",
            )
        recipe = _recipe(doc.get_object("recipe"))
        shardlist = []
        for n, value in enumerate(doc.get_list("shardlist")):
            entry = _Object(value, where, f"shardlist[{n}]")
            url, nsamples, filesize = entry.get_str("url"), entry.get_int("nsamples"), entry.get_int("filesize")
            shardlist.append(ShardEntry(url, nsamples, filesize, entry.get_sha256("sha256")))
        manifest = cls(
            name=doc.get_str("name"),
            synthgen_version=doc.get_str("synthgen_version"),
            recipe_sha256=doc.get_sha256("recipe_sha256"),
            recipe=recipe,
            nsamples=doc.get_int("nsamples"),
            nimages=doc.get_int("nimages"),
            nshards=doc.get_int("nshards"),
            filesize=doc.get_int("filesize"),
            failures=doc.get_counts("failures"),
            shardlist=tuple(shardlist),
            history=tuple(_history(doc)),
            excluded=tuple(_excluded(doc)),
            format_version=version,
            wids_version=doc.get_int("wids_version"),
            kind=doc.get_str("__kind__"),
        )
        # The totals are the shardlist's: a manifest that disagrees with itself is damaged.
        totals = {
            "nsamples": sum(e.nsamples for e in shardlist),
            "nimages": sum(e.nsamples for e in shardlist) * manifest.views,
            "nshards": len(shardlist),
            "filesize": sum(e.filesize for e in shardlist),
        }
        for key, total in totals.items():
            if getattr(manifest, key) != total:
                raise doc.error(key, f"{getattr(manifest, key)}, but the shardlist makes {total}")
        return manifest


def _history(doc: _Object) -> list[dict[str, Any]]:
    """The manifest's `history` (absent from an older synthgen's), each entry's count checked."""
    if not doc.has("history"):
        return []
    entries = []
    for n, value in enumerate(doc.get_list("history")):
        entry = _Object(value, doc.where, f"history[{n}]")
        entry.get_int("count", minimum=1)
        entries.append(entry.value)
    return entries


def _excluded(doc: _Object) -> list[dict[str, str]]:
    """The manifest's `excluded` programs (absent from an older synthgen's): {id, reason, message}."""
    if not doc.has("excluded"):
        return []
    entries = []
    for n, value in enumerate(doc.get_list("excluded")):
        entry = _Object(value, doc.where, f"excluded[{n}]")
        found = {"id": entry.get_str("id"), "reason": entry.get_str("reason")}
        message = entry.value.get("message", "")
        if not isinstance(message, str):
            raise entry.error("message", f"expected a string, got {_show(message)}")
        entries.append(found | {"message": message})
    return entries


def _recipe(recipe: _Object) -> dict[str, Any]:
    """The manifest's recipe, checked for the fields that readers of the corpus use."""
    recipe.get_str("name")
    recipe.get_int("views", minimum=1)
    if recipe.has("image"):
        image = recipe.get_object("image")
        if image.has("format") and image.get("format") not in IMAGE_FORMATS:
            raise image.error("format", f"expected one of {', '.join(IMAGE_FORMATS)}, got {_show(image.get('format'))}")
        if image.has("size"):
            size = image.get("size")
            if not (isinstance(size, list) and len(size) == 2 and all(type(v) is int and v >= 1 for v in size)):
                raise image.error("size", f"expected [width, height] in pixels, got {_show(size)}")
    return recipe.value
