"""Recipe section of the `shader` source (light: no GL import here)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from synthgen.schema import StrictModel, resolve_path

BUILTIN_PROGRAM_SETS = ("starter",)


class ProgramSetEntry(StrictModel):
    """One place programs come from: a set shipped with synthgen, or a file or folder.

    A folder contributes its `.frag`, `.glsl` and Shadertoy API `.json` files (recursively);
    a recipe may also write the shorthand string `starter` or a path.
    """

    builtin: Literal[BUILTIN_PROGRAM_SETS] | None = None  # type: ignore[valid-type]
    path: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        if isinstance(value, str):
            return {"builtin": value} if value in BUILTIN_PROGRAM_SETS else {"path": value}
        return value

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else resolve_path(value, info)

    @model_validator(mode="after")
    def _exactly_one(self) -> ProgramSetEntry:
        if (self.builtin is None) == (self.path is None):
            raise ValueError("give exactly one of `builtin` or `path`")
        return self


class TimeRange(StrictModel):
    """iTime of view 0 is drawn from U(min, max) seconds (Shaders21k: 0.1 to 10)."""

    min: float = Field(0.1, ge=0.0)
    max: float = 10.0

    @field_validator("max")
    @classmethod
    def _above_min(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("min")
        if low is not None and value <= low:
            raise ValueError(f"must be > min ({low})")
        return value


class ShaderSourceConfig(StrictModel):
    kind: Literal["shader"]
    programs: list[ProgramSetEntry] = Field(default_factory=lambda: [ProgramSetEntry(builtin="starter")], min_length=1)
    time: TimeRange = TimeRange()
    # Views after the first: None draws each view's time independently from `time`;
    # a number s takes t0 + U(-s, s), clipped to `time`, i.e. nearby frames.
    view_time_spread: float | None = Field(None, gt=0.0)
    # An image whose pixel standard deviation (0..255 scale) is below this is degenerate
    # and redrawn; 0 keeps every image.
    min_pixel_std: float = Field(2.0, ge=0.0)
    # Seconds a sample (compile and all views) may take before its program is deemed hung:
    # the render process is restarted and the program excluded, like one that fails to compile.
    watchdog_seconds: float = Field(30.0, gt=0.0)
