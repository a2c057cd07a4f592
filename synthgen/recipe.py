"""Recipes: the YAML that defines a corpus, validated into a typed, resolved and hashed model.

    recipe = load_recipe("recipes/demo-shaders.yaml", overrides=["source.time.max=5"])
    recipe.sha256      # names the corpus

Errors name the field path and what was expected, e.g. `source.time.max: must be > min (0.1)`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from synthgen.errors import RecipeError
from synthgen.schema import StrictModel, dotted_path, load_yaml, read_yaml_mapping, tree_problem
from synthgen.sources import SOURCES, SourceConfig

# A list index in a dotted key (`source.programs.0`).
_INDEX = re.compile(r"[0-9]{1,9}")


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
        set_key(document, key, value, f"{path}: {key}")
    for override in overrides:
        apply_override(document, override)
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
        raise RecipeError(f"{origin}: {format_validation_error(err, document, {'kind': SOURCES})}") from None


def apply_override(document: dict[str, Any], override: str) -> None:
    """Apply one `a.b.c=VALUE` override in place; VALUE is read as a YAML scalar (3, true, [1, 2])."""
    key, sep, raw = override.partition("=")
    if not sep or not key:
        raise RecipeError(f"--set {override!r}: expected KEY=VALUE, e.g. source.time.max=5")
    try:
        value = load_yaml(raw)
    except yaml.YAMLError as err:
        problem = getattr(err, "problem", None)
        raise RecipeError(
            f"--set {override!r}: the value is not valid YAML" + (f": {problem}" if problem else "")
        ) from None
    set_key(document, key, value, f"--set {override!r}")


def set_key(document: dict[str, Any], key: str, value: Any, origin: str) -> None:
    """Set the dotted `key` (`source.time.max`, `source.programs.0.generate`) to `value` in place,
    creating mappings on the way; `origin` names the setting in errors."""
    parts = key.split(".")
    node: Any = document
    for depth, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            node = node[_list_index(node, part, dotted_path(parts[: depth + 1]), origin)]
        elif isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            raise RecipeError(f"{origin}: {dotted_path(parts[:depth])} is not a mapping")
        if node is None:
            raise RecipeError(f"{origin}: {dotted_path(parts[: depth + 1])} is empty")
    last = parts[-1]
    if isinstance(node, list):
        node[_list_index(node, last, dotted_path(parts), origin)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise RecipeError(f"{origin}: {dotted_path(parts[:-1])} is not a mapping")


def _list_index(node: list, part: str, where: str, origin: str) -> int:
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not _INDEX.fullmatch(part) or int(part) >= len(node):
        raise RecipeError(f"{origin}: {where}: expected a list index below {len(node)}")
    return int(part)


def format_validation_error(
    err: ValidationError, document: Any = None, tags: Mapping[str, Iterable[str]] | None = None
) -> str:
    """Turn pydantic's report into `path: message` items, the first few joined on one line.

    Paths are the ones the user wrote: pydantic puts a tagged union's tag (`source.shader.time`)
    into the path, and that entry is dropped by following the path through `document`. `tags`
    names the values of each union's tag key (`{"kind": [...]}`), for the message when it is missing.
    """
    items = []
    for error in err.errors():
        loc = _written_path([str(part) for part in error["loc"]], document)
        # Shorthand validators ("function-before[...]") add non-field entries.
        loc = [part for part in loc if not part.startswith(("function-", "literal["))]
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append(error["ctx"]["discriminator"].strip("'"))
        message = _message(error, tags or {})
        items.append(f"{dotted_path(loc) or '(top level)'}: {message}")
    shown = "; ".join(items[:3])
    return shown + (f" (and {len(items) - 3} more)" if len(items) > 3 else "")


def _written_path(loc: list[str], document: Any) -> list[str]:
    """`loc` without the tags of tagged unions: entries the document does not have at that point,
    which equal the value of one of that mapping's keys (its `kind` or `name`)."""
    path: list[str] = []
    node = document
    tag_skipped = False  # one tag at most per mapping
    for depth, part in enumerate(loc):
        # Tags are strings: a number or a list that prints as the key is not one. A tag may also
        # be a key's name (`kind: dataset` beside `dataset: SPEC`): it is the tag when a part
        # follows and that key's value is a scalar, which has no parts.
        if (
            not tag_skipped
            and isinstance(node, dict)
            and part in {v for v in node.values() if isinstance(v, str)}
            and (part not in node or (depth + 1 < len(loc) and not isinstance(node[part], dict | list)))
        ):
            tag_skipped = True
            continue
        tag_skipped = False
        path.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and _INDEX.fullmatch(part) and int(part) < len(node):
            node = node[int(part)]
        else:
            node = None
    return path


def _message(error: dict[str, Any], tags: Mapping[str, Iterable[str]]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = error["ctx"]["discriminator"].strip("'")
        if "expected_tags" in error["ctx"]:
            known = [tag.strip("'") for tag in error["ctx"]["expected_tags"].split(", ")]
        else:
            known = list(tags.get(key, ()))
        if kind == "union_tag_invalid":
            return f"unknown {key} {error['ctx']['tag']!r}; known {key}s: {', '.join(sorted(known))}"
        return f"missing `{key}`" + (f" (one of {', '.join(sorted(known))})" if known else "")
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind not in ("value_error", "assertion_error") and "input" in error:
        shown = repr(error["input"])
        message += f" (got {shown if len(shown) <= 40 else shown[:37] + '...'})"
    return _one_line(message)


def _one_line(text: str) -> str:
    return " ".join(text.split())
