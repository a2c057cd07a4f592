"""Shared pieces of the recipe schema: the strict base model and path resolution."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationInfo

from synthgen.errors import SynthgenError


class StrictModel(BaseModel):
    """A recipe section: unknown keys are errors, values are checked, nothing is coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def resolve_path(value: str, info: ValidationInfo) -> str:
    """Resolve a path from a recipe relative to the recipe file's folder, and check it exists.

    The resolved (absolute) path is what the resolved recipe records, so a corpus's manifest
    names exactly what was read.
    """
    base = (info.context or {}).get("base_dir")
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if not path.exists():
        raise ValueError(f"no such file or directory: {path}")
    return str(path.resolve())


def read_yaml_mapping(path: str | Path, what: str, error: type[SynthgenError]) -> dict[str, Any]:
    """The mapping at the top of the YAML file `path` (a recipe, a train config, an experiment).

    Safe loading only: tags that would construct Python objects are refused. Every failure is one
    `error` naming the file and, for bad YAML, the line.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: {what} file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{path}: cannot read the {what}: {getattr(err, 'strerror', None) or err}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None)
        raise error(f"{path}: not valid YAML{where}" + (f": {problem}" if problem else "")) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise error(f"{path}: a {what} is a mapping of keys at the top level, not a {type(document).__name__}")
    return document
