"""Source families, by recipe `kind`.

Each family has a light config model (imported by the recipe schema) and an implementation
imported only when a render needs it, so validating a recipe never loads GL or a model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from synthgen.permissions import Permissions, check_code_allowed, resolve_permissions
from synthgen.sources.dataset import DatasetSourceConfig
from synthgen.sources.diffusion.config import DiffusionSourceConfig
from synthgen.sources.fractal.config import MODES as FRACTAL_MODES
from synthgen.sources.fractal.config import FractalSourceConfig
from synthgen.sources.gan.config import GanSourceConfig
from synthgen.sources.noise.config import MODELS, NoiseSourceConfig
from synthgen.sources.shader.config import ShaderSourceConfig
from synthgen.sources.visualatom.config import VisualAtomSourceConfig

if TYPE_CHECKING:
    from synthgen.recipe import Recipe
    from synthgen.sources.base import Source

# kind -> "module:Class" of the implementation.
SOURCES: dict[str, str] = {
    "shader": "synthgen.sources.shader.source:ShaderSource",
    "noise": "synthgen.sources.noise.source:NoiseSource",
    "diffusion": "synthgen.sources.diffusion.source:DiffusionSource",
    "gan": "synthgen.sources.gan.source:GanSource",
    "fractal": "synthgen.sources.fractal.source:FractalSource",
    "visualatom": "synthgen.sources.visualatom.source:VisualAtomSource",
    # Outside this package: it reads data with synthgen.evaluate (see synthgen/sources/dataset.py).
    "dataset": "synthgen.realdata:DatasetSource",
}

# The recipe's `source` section: the config model of the family its `kind` names (for noise and
# gan, itself a union of variants; see their config modules).
SourceConfig = Annotated[
    ShaderSourceConfig
    | NoiseSourceConfig
    | DiffusionSourceConfig
    | GanSourceConfig
    | DatasetSourceConfig
    | VisualAtomSourceConfig
    | FractalSourceConfig,
    Field(discriminator="kind"),
]
# The values of the keys that choose a variant, for the error that says one is missing.
SOURCE_TAGS: dict[str, tuple[str, ...]] = {"kind": tuple(SOURCES), "model": MODELS, "mode": FRACTAL_MODES}


def source_class(kind: str) -> type[Source]:
    """The implementation of a source `kind` (imported on first use)."""
    module_name, _, class_name = SOURCES[kind].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def build_source(recipe: Recipe, device: str | None = None, permissions: Permissions | None = None) -> Source:
    """Instantiate the source that `recipe.source.kind` names.

    `permissions`: what the user allows the recipe to run (synthgen.permissions; None: the
    permissions in effect, by default what the environment variables allow, i.e. nothing). A
    recipe asking for code they do not allow is a NotAllowedError before anything is imported.
    """
    permissions = resolve_permissions(permissions)
    check_code_allowed(recipe, permissions)
    cls = source_class(recipe.source.kind)
    if cls.takes_permissions:
        return cls(recipe, device=device, permissions=permissions)  # type: ignore[call-arg]
    return cls(recipe, device=device)
