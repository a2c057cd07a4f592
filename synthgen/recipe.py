"""Recipes: the YAML that defines a corpus, validated into a typed, resolved and hashed model.

    recipe = load_recipe("recipes/demo-shaders.yaml", overrides=["source.time.max=5"])
    recipe.sha256      # names the corpus

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
    StrictModel,
    apply_override,
    format_validation_error,
    read_yaml_mapping,
    set_key,
    tree_problem,
)
from synthgen.sources import SOURCE_TAGS, SourceConfig


class ImageConfig(StrictModel):
    # `size: 64` means 64x64; `size: [width, height]` otherwise. Resolved to [width, height].
    size: tuple[int, int] = (256, 256)
    format: Literal["jpg", "png", "webp"] = "jpg"
    quality: int = Field(95, ge=1, le=100)

    @field_validator("size", mode="before")
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
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=128)
    count: int = Field(ge=1, le=MAX_COUNT, description="samples in the corpus")
    seed: int = Field(0, ge=0, lt=2**63)
    views: int = Field(1, ge=1, le=64, description="images per sample")
    image: ImageConfig = ImageConfig()
    shard: ShardConfig = ShardConfig()
    source: SourceConfig

    def resolved(self) -> dict[str, Any]:
        """The recipe with every default filled in: what the manifest records.

        Keys left unset (None) are omitted: None always means "not given" in a recipe.
        """
        return self.model_dump(mode="json", exclude_none=True)

    @cached_property
    def sha256(self) -> str:
        """sha256 of the canonical resolved recipe: names the corpus."""
        return hashlib.sha256(canonical_json(self.resolved())).hexdigest()


def canonical_json(value: Any) -> bytes:
    """Sorted, compact JSON: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def load_recipe(
    path: str | Path,
    overrides: Sequence[str] = (),
    count: int | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Recipe:
    """Read a recipe file, apply `settings` ({dotted key: value}), then `KEY=VALUE` overrides and
    `count`; validate and resolve it."""
    path = Path(path)
    document = read_yaml_mapping(path, "recipe", RecipeError)
    for key, value in (settings or {}).items():
        set_key(document, key, value, f"{path}: {key}", RecipeError)
    for override in overrides:
        apply_override(document, override, RecipeError)
    if count is not None:
        document["count"] = count
    return parse_recipe(document, base_dir=path.parent, origin=str(path))


def parse_recipe(document: dict[str, Any], base_dir: Path | None = None, origin: str = "recipe") -> Recipe:
    """Validate a recipe document; relative paths in it are resolved against `base_dir`."""
    # Read from YAML, a document has passed this check already; one built in Python has not.
    problem = tree_problem(document)
    if problem is not None:
        raise RecipeError(f"{origin}: {problem}")
    try:
        return Recipe.model_validate(document, context={"base_dir": base_dir})
    except ValidationError as err:
        raise RecipeError(f"{origin}: {format_validation_error(err, document, SOURCE_TAGS)}") from None
