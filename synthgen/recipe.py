"""Recipes: the YAML that defines a corpus, validated into a typed, resolved and hashed model.

    recipe = load_recipe("my-shaders.yaml", overrides=["source.time.max=5"])
    recipe = load_recipe(shipped_path("demo-shaders", "recipe"))   # synthgen.shipped
    recipe.sha256      # names what each sample is; (sha256, count) names the corpus

Errors name the field path and what was expected, e.g. `source.time.max: must be > min (0.1)`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from synthgen.errors import RecipeError
from synthgen.schema import (
    NAME_PATTERN,
    Origin,
    Origins,
    StrictModel,
    apply_override,
    document_differences,
    format_validation_error,
    read_yaml_mapping,
    set_key,
    setting_label,
    tree_problem,
)
from synthgen.sources import SOURCE_TAGS, SourceConfig
from synthgen.text import printable


class ImageConfig(StrictModel):
    # `size: 64` means 64x64; `size: [width, height]` otherwise. Resolved to [width, height].
    size: tuple[int, int] = (256, 256)
    format: Literal["jpg", "png", "webp"] = "jpg"
    quality: int = Field(95, ge=1, le=100)

    # The JSON Schema (synthgen schema recipe) takes the shorthand too.
    @field_validator("size", mode="before", json_schema_input_type=int | tuple[int, int])
    @classmethod
    def _square(cls, value: Any) -> Any:
        return (value, value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("size")
    @classmethod
    def _positive(cls, value: tuple[int, int]) -> tuple[int, int]:
        if min(value) < 8 or max(value) > 8192:
            raise ValueError(f"each side must be between 8 and 8192 pixels, got {list(value)}")
        return value

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]


# Sample keys are 12 digits (sample_key), so that they sort in sample order.
MAX_COUNT = 10**12 - 1


class ShardConfig(StrictModel):
    samples: int = Field(1000, ge=1, description="samples per shard")


class Recipe(StrictModel):
    name: str = Field(pattern=NAME_PATTERN, max_length=128)
    count: int = Field(ge=1, le=MAX_COUNT, description="samples in the corpus")
    seed: int = Field(0, ge=0, lt=2**63)
    views: int = Field(1, ge=1, le=64, description="images per sample")
    image: ImageConfig = ImageConfig()
    shard: ShardConfig = ShardConfig()
    source: SourceConfig
    # The licence the corpus's dataset card (README.md) declares: a Hugging Face Hub licence
    # identifier. Unset: the card says `other` (the user decides) or, for real data, what is known.
    license: str | None = Field(
        None, pattern=r"^[a-z0-9][a-z0-9.+-]*$", max_length=64, description="a Hub licence id, e.g. cc-by-4.0"
    )

    def resolved(self) -> dict[str, Any]:
        """The recipe with every default filled in: what the manifest records.

        Keys left unset (None) are omitted: None always means "not given" in a recipe.
        """
        return self.model_dump(mode="json", exclude_none=True)

    @property
    def count_dependence(self) -> str | None:
        """Why sample i depends on `count` in this recipe (e.g. shader `blocked` sampling spreads
        the programs over the count), or None: then sample i is a function of the rest of the
        recipe and i alone, and a corpus of a larger count begins with this one's shards."""
        # A source config says so with a `count_dependence` property; most have none.
        return getattr(self.source, "count_dependence", None)

    def identity(self) -> dict[str, Any]:
        """What the hash covers: the resolved recipe without `count`, unless the samples depend on
        it (count_dependence). `count` says how many samples there are, not what sample i is, so
        the samples of a corpus grown from 256 to 512 carry the hash they had."""
        resolved = self.resolved()
        if self.count_dependence is None:
            del resolved["count"]
        return resolved

    @cached_property
    def sha256(self) -> str:
        """sha256 of the canonical identity() (the resolved recipe, `count` left out where the
        samples do not depend on it): what every sample and sidecar records. The corpus itself is
        named by this and its count (a manifest records both)."""
        return hashlib.sha256(canonical_json(self.identity())).hexdigest()


# Settings named at most in a "which settings differ" message, then "and N more".
SHOWN_DIFFERENCES = 3


def recipe_differences(theirs: Mapping[str, Any], ours: Mapping[str, Any], where: str = "DEST") -> str | None:
    """`image.size: [64, 64] in DEST, [128, 128] in this recipe; ...` for the resolved settings
    that differ between a recorded recipe (`theirs`, as `where` holds it) and this one, the first
    SHOWN_DIFFERENCES of them, then `and N more`; None when none differ."""
    found = document_differences(theirs, ours)
    if not found:
        return None
    shown = [f"{key}: {_setting(a)} in {where}, {_setting(b)} in this recipe" for key, a, b in found]
    more = len(shown) - SHOWN_DIFFERENCES
    return "; ".join(shown[:SHOWN_DIFFERENCES]) + (f"; and {more} more" if more > 0 else "")


def _setting(value: Any) -> str:
    """A setting's value as a message shows it: JSON, shortened (a list of programs can be long)."""
    if value is None:
        return "(unset)"
    text = printable(json.dumps(value, ensure_ascii=False))  # a value from a file: escaped for the terminal
    return text if len(text) <= 60 else text[:57] + "..."


def canonical_json(value: Any) -> bytes:
    """Sorted, compact JSON: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def load_recipe(
    path: str | Path,
    overrides: Sequence[str] = (),
    count: int | None = None,
    settings: Mapping[str, Any] | None = None,
    origins: Mapping[str, Origin | str] | None = None,
) -> Recipe:
    """Read a recipe file, apply `settings` ({dotted key: value}), then `KEY=VALUE` overrides and
    `count`; validate and resolve it. `origins` names the setting behind a key of `settings` or
    `count` (`{"count": "--count"}`): an error about that key blames it, not the recipe file.
    `path` may also name a shipped recipe (`demo-shaders`): synthgen.shipped.resolve_document."""
    from synthgen.shipped import resolve_document

    path = resolve_document(path, "recipe")
    document = read_yaml_mapping(path, "recipe", RecipeError)
    given = Origins(str(path))
    named = dict(origins or {})
    for key, value in (settings or {}).items():
        set_key(document, key, value, setting_label(named.get(key), f"{path}: {key}"), RecipeError)
        if key in named:
            given.record(key, named[key])
    for override in overrides:
        apply_override(document, override, RecipeError, given)
    if count is not None:
        document["count"] = count
        if "count" in named:
            given.record("count", named["count"])
    return parse_recipe(document, base_dir=path.parent, origin=str(path), origins=given)


def parse_recipe(
    document: dict[str, Any], base_dir: Path | None = None, origin: str = "recipe", origins: Origins | None = None
) -> Recipe:
    """Validate a recipe document; relative paths in it are resolved against `base_dir`. An error
    names `origin` (the file), or the setting that `origins` says gave the key it is about."""
    # Read from YAML, a document has passed this check already; one built in Python has not.
    problem = tree_problem(document)
    if problem is not None:
        raise RecipeError(f"{origin}: {problem}")
    try:
        return Recipe.model_validate(document, context={"base_dir": base_dir})
    except ValidationError as err:
        raise RecipeError(format_validation_error(err, document, SOURCE_TAGS, origins or Origins(origin))) from None
