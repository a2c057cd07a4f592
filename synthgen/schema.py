"""Shared pieces of the recipe schema: the strict base model and path resolution."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationInfo


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
