"""Recipe section of the `diffusion` source (light: no torch or diffusers import here).

Defaults follow StableRep (Tian et al., NeurIPS 2023): guidance scale 2, many images per prompt.
Files (the prompts, a local model) are resolved against the recipe's folder here but opened only
when a render starts, in the source: so a recipe can be validated, and shipped, before the
captions file or the model it names is in place.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationInfo, field_validator, model_validator

from synthgen.schema import StrictModel, document_path, key_error
from synthgen.sources.base import Dtype

# Short scheduler names; any diffusers class name ending in `Scheduler` is accepted too.
SCHEDULERS: dict[str, str] = {
    "ddim": "DDIMScheduler",
    "ddpm": "DDPMScheduler",
    "pndm": "PNDMScheduler",
    "lms": "LMSDiscreteScheduler",
    "euler": "EulerDiscreteScheduler",
    "euler_a": "EulerAncestralDiscreteScheduler",
    "heun": "HeunDiscreteScheduler",
    "dpm++": "DPMSolverMultistepScheduler",
    "unipc": "UniPCMultistepScheduler",
    "deis": "DEISMultistepScheduler",
    "lcm": "LCMScheduler",
}
# Prompt files by suffix: one prompt per line, or a table with a text column.
TEXT_SUFFIXES = (".txt",)
TABLE_SUFFIXES = (".jsonl", ".csv", ".tsv", ".parquet")
DEFAULT_TEMPLATE = "a photo of a {}."

# Models synthgen builds itself: the tiny pipeline of tiny.py, built into synthgen's cache on
# first use (tiny.cached_tiny_pipeline).
BUILTIN_PREFIX = "synthgen:"
TINY_MODEL = "synthgen:tiny-sd"
BUILTIN_MODELS = (TINY_MODEL,)

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_SCHEDULER_CLASS = re.compile(r"^[A-Za-z0-9]+Scheduler$")


def _at_least(value: float, low: float, high: float | None = None) -> Any:
    if value < low:
        raise ValueError(f"must be >= {low}")
    if high is not None and value > high:
        raise ValueError(f"must be <= {high}")
    return value


class PromptsConfig(StrictModel):
    """Where the prompts come from: exactly one of `file` or `classes`.

    - `file`: `.txt` (one prompt per line), or `.jsonl` / `.csv` / `.tsv` / `.parquet` with the
      prompt in `column`. Blank lines and empty entries are skipped.
    - `classes`: class names (a list, or a `.txt` file with one per line, in class-index order),
      each put into every one of `templates` ("a photo of a {}."). Prompt p is class p mod C in
      template p div C, so any run of C consecutive samples covers every class once.
    """

    file: str | None = None
    column: str | None = None
    classes: list[str] | str | None = None
    templates: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_template(cls, value: Any) -> Any:
        # Filled in, so the resolved recipe (and its hash) says which prompts were used.
        if isinstance(value, dict) and value.get("classes") is not None and value.get("templates") is None:
            return {**value, "templates": [DEFAULT_TEMPLATE]}
        return value

    @field_validator("file")
    @classmethod
    def _resolve_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value.endswith(TEXT_SUFFIXES + TABLE_SUFFIXES):
            raise ValueError(f"expected a {', '.join(TEXT_SUFFIXES + TABLE_SUFFIXES)} file, got {value!r}")
        return document_path(value, info)

    @field_validator("classes")
    @classmethod
    def _resolve_classes(cls, value: list[str] | str | None, info: ValidationInfo) -> list[str] | str | None:
        if isinstance(value, list):
            if not value:
                raise ValueError("give at least one class name")
            names = [name.strip() for name in value]
            if not all(names):
                raise ValueError("class names must not be empty")
            return names
        if isinstance(value, str):
            if not value.endswith(".txt"):
                raise ValueError(f"expected a list of class names or a .txt file of them, got {value!r}")
            return document_path(value, info)
        return value

    @field_validator("templates")
    @classmethod
    def _one_slot(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("give at least one template")
            for template in value:
                if template.count("{}") != 1:
                    raise ValueError(
                        f"each template holds `{{}}` exactly once, where the class name goes: {template!r}"
                    )
        return value

    @model_validator(mode="after")
    def _one_source(self) -> PromptsConfig:
        if (self.file is None) == (self.classes is None):
            raise ValueError("give exactly one of `file` or `classes`")
        if self.file is not None:
            if self.templates is not None:
                raise ValueError("`templates` goes with `classes`")
            is_table = self.file.endswith(TABLE_SUFFIXES)
            if is_table and self.column is None:
                raise ValueError(f"`column` names the prompt column of {Path(self.file).name}")
            if not is_table and self.column is not None:
                raise ValueError("`column` goes with .jsonl, .csv, .tsv and .parquet files")
        elif self.column is not None:
            raise ValueError("`column` goes with `file`")
        return self


class DiffusionSourceConfig(StrictModel):
    """A diffusers text-to-image pipeline; each sample is one prompt and its `views` images."""

    kind: Literal["diffusion"]
    # A local folder of a diffusers pipeline (model_index.json inside), a hub id such as
    # `stabilityai/sd-turbo`, or `synthgen:tiny-sd` (the tiny pipeline of tiny.py, built into the
    # cache on first use). A value that starts with `/`, `.` or `~`, names a folder that exists
    # next to the recipe, or is not of the form org/name is a folder (resolved against the recipe's folder).
    model: str
    revision: str | None = None  # a hub branch, tag or commit: pins the weights
    variant: str | None = None  # e.g. `fp16`: the hub files to read (a smaller download)
    prompts: PromptsConfig
    # StableRep's name for the recipe's `views`: if given, it must equal `views`.
    images_per_prompt: int | None = None
    guidance_scale: float = 2.0
    steps: int = 50
    # A short name (see SCHEDULERS) or a diffusers class name; unset: the model's own scheduler.
    scheduler: str | None = None
    negative_prompt: str | None = None
    # Generated at this size, then resized to `image.size`; unset: the model's native size.
    generation_size: tuple[int, int] | None = None
    # `auto`: bfloat16 on a GPU, float32 on the CPU.
    dtype: Dtype = "auto"
    # Prompts per pipeline call; each brings its `views` images, so a call makes batch_size x views.
    batch_size: int = 4
    # torch.compile the denoiser (worth it for long renders: the first batches pay the compile).
    compile: bool = False
    # Off by default (not even loaded). On: an image it flags comes back black, and its sample is
    # redrawn (counted as `nsfw`).
    safety_checker: bool = False

    @field_validator("model")
    @classmethod
    def _folder_or_hub_id(cls, value: str, info: ValidationInfo) -> str:
        if value.startswith(BUILTIN_PREFIX):
            if value not in BUILTIN_MODELS:
                raise ValueError(f"unknown built-in model {value!r}; built in: {', '.join(BUILTIN_MODELS)}")
            return value  # a name, kept as written: the recipe hash does not depend on the cache's place
        base = (info.context or {}).get("base_dir")
        next_to_recipe = base is not None and (Path(base) / value).is_dir()
        if value.startswith(("/", ".", "~")) or next_to_recipe or not _HUB_ID.match(value):
            return document_path(value, info)
        return value

    @field_validator("images_per_prompt")
    @classmethod
    def _images_per_prompt(cls, value: int | None) -> int | None:
        return None if value is None else _at_least(value, 1, 64)

    @field_validator("guidance_scale")
    @classmethod
    def _guidance(cls, value: float) -> float:
        return _at_least(value, 0)

    @field_validator("steps")
    @classmethod
    def _steps(cls, value: int) -> int:
        return _at_least(value, 1, 1000)

    @field_validator("batch_size")
    @classmethod
    def _batch_size(cls, value: int) -> int:
        return _at_least(value, 1, 1024)

    @field_validator("scheduler")
    @classmethod
    def _known_scheduler(cls, value: str | None) -> str | None:
        if value is not None and value not in SCHEDULERS and not _SCHEDULER_CLASS.match(value):
            raise ValueError(f"expected one of {', '.join(SCHEDULERS)} or a diffusers class name like DDIMScheduler")
        return value

    # The JSON Schema (synthgen schema recipe) takes the shorthand too.
    @field_validator("generation_size", mode="before", json_schema_input_type=int | tuple[int, int] | None)
    @classmethod
    def _square(cls, value: Any) -> Any:
        return (value, value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("generation_size")
    @classmethod
    def _multiple_of_8(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and any(side % 8 or not 8 <= side <= 4096 for side in value):
            raise ValueError(f"each side must be a multiple of 8 between 8 and 4096 pixels, got {list(value)}")
        return value

    @model_validator(mode="after")
    def _negative_prompt_needs_guidance(self) -> DiffusionSourceConfig:
        if self.negative_prompt is not None and self.guidance_scale <= 1:
            # diffusers runs classifier-free guidance, and so reads the negative prompt, only above 1.
            raise key_error("negative_prompt", f"has no effect unless guidance_scale > 1 (it is {self.guidance_scale})")
        return self

    @property
    def scheduler_class(self) -> str | None:
        """The diffusers class name of `scheduler` (None: keep the model's own)."""
        return SCHEDULERS.get(self.scheduler, self.scheduler) if self.scheduler else None
