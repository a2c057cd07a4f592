"""Recipe section of the `shader` source (light: no GL import here)."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import Field, GetJsonSchemaHandler, field_validator, model_validator
from pydantic.json_schema import JsonSchemaValue

from synthgen.schema import ExistingPath, Range, StrictModel
from synthgen.sources.imageops import RejectConfig
from synthgen.sources.shader import generator_version

BuiltinProgramSet = Literal["library", "starter"]
BUILTIN_PROGRAM_SETS: tuple[str, ...] = get_args(BuiltinProgramSet)
ProgramFormat = Literal["auto", "twigl-geek", "twigl-geeker"]
PROGRAM_FORMATS: tuple[str, ...] = get_args(ProgramFormat)
# Compiled programs a render process keeps; a `blocked` sampling block must fit in it.
PROGRAM_CACHE = 512


class ProgramSetEntry(StrictModel):
    """One place programs come from; exactly one of `builtin`, `path` or `generate`.

    - `builtin: library` (every program shipped with synthgen) or `starter` (its 16-program
      demo subset);
    - `path`: a `.frag`/`.glsl` file, a Shadertoy API `.json` file, a `.txt` list of program
      files (as `synthgen shaders check --good` writes), or a folder of them (recursively);
      `format` says how to read `.frag`/`.glsl` files;
    - `generate: N` programs from synthgen's program generator, with `seed`; `generator` is the
      generator's version, filled in when absent (another version than the installed one is an
      error: its programs cannot be made here).
    `tags` keeps the programs that have at least one of them. A recipe may also write the
    shorthand string `library`, `starter` or a path.
    """

    builtin: BuiltinProgramSet | None = None
    path: ExistingPath | None = None
    generate: int | None = Field(None, ge=1, le=10_000_000)
    seed: int | None = Field(None, ge=0, lt=2**63)
    generator: int | None = None
    tags: list[str] | None = Field(None, min_length=1)
    format: ProgramFormat = "auto"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        if isinstance(value, str):
            return {"builtin": value} if value in BUILTIN_PROGRAM_SETS else {"path": value}
        if isinstance(value, dict) and value.get("generate") is not None:
            # Resolved, so the recipe hash records them: programs change with either.
            value = {"seed": 0, **value}
            if value.get("generator") is None:
                value["generator"] = generator_version.GENERATOR_VERSION
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # The JSON Schema (synthgen schema recipe) takes the shorthand string too.
        shorthand = {"type": "string", "description": "`library`, `starter` or a path"}
        return {"anyOf": [shorthand, handler(schema)]}

    @field_validator("generator")
    @classmethod
    def _installed_generator(cls, value: int | None) -> int | None:
        installed = generator_version.GENERATOR_VERSION
        if value is not None and value != installed:
            raise ValueError(
                f"this synthgen generates programs with generator {installed}, the recipe asks for {value}"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _lowercase(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [tag.strip().lower() for tag in value]

    @model_validator(mode="after")
    def _exactly_one(self) -> ProgramSetEntry:
        given = [name for name in ("builtin", "path", "generate") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of `builtin`, `path` or `generate`")
        if self.seed is not None and self.generate is None:
            raise ValueError("`seed` goes with `generate`")
        if self.generator is not None and self.generate is None:
            raise ValueError("`generator` goes with `generate`")
        if self.format != "auto" and self.path is None:
            raise ValueError("`format` goes with `path`")
        return self


class TimeRange(Range):
    """iTime of view 0 is drawn from U(min, max) seconds (Shaders21k: 0.1 to 10)."""

    min: float = Field(0.1, ge=0.0)
    max: float = Field(10.0, validate_default=True)


class SamplingConfig(StrictModel):
    """How a sample picks its program.

    `uniform`: each sample draws a program uniformly. `blocked`: samples go through the programs
    in blocks of `block` (a seeded permutation), interleaved within a block, so every program
    gets the same number of samples and a worker compiles each program once per block rather
    than once per sample: the mode for large program sets.
    """

    mode: Literal["uniform", "blocked"] = "uniform"
    block: int = Field(64, ge=1, le=PROGRAM_CACHE)


# The default share of a frame's pixels that may come out NaN or infinite (stored black): past
# it a frame is `nan`. Measured (bench/RESULTS.md, "Degenerate frames", bench/measure_nan_share.py):
# no bundled or generated program has a NaN pixel; third-party programs that look right show
# 1-3% (a singular axis or point: a one-pixel cross is 1.6% of a 128 px frame); a NaN disc or
# speckle becomes a visible hole or noise from about 5%, and 10% is broken to the eye.
MAX_NAN_FRACTION = 0.05


class ShaderRejectConfig(RejectConfig):
    """The shared reject rule (imageops.RejectConfig, synthgen.frames.judge_frame) at the
    shader family's defaults, with a share of NaN pixels allowed."""

    # `near_constant`: the largest per-channel pixel standard deviation (0..255) below this
    # (all black, all white, flat in any colour).
    min_std: float = Field(2.0, ge=0.0)
    # `nan`: more than this share of the pixels came out NaN or infinite.
    max_nan_fraction: float = Field(MAX_NAN_FRACTION, ge=0.0, le=1.0)

    def nan_limit(self) -> float:
        return self.max_nan_fraction


# Built-in watchdog limits, used where a recipe leaves `memory_mb` or `max_source_bytes` out.
# memory: the GL process of the largest shipped recipe (21k generated programs, 256 px, its
# cache of 512 compiled programs full) grows by about 0.9 GB after start-up (VmData); twice that, rounded.
DEFAULT_MEMORY_MB = 2048
# The largest shipped program is 3 KB: a margin of 300 times for programs from elsewhere.
DEFAULT_MAX_SOURCE_BYTES = 1 << 20


class WatchdogConfig(StrictModel):
    """Limits past which a program is deemed broken: its render process is restarted, the sample
    redrawn and the program excluded.

    Time: a sample may take compile_seconds + views x frame_seconds (else `timeout`). Memory: the
    GL process may take `memory_mb` MB of memory beyond what it holds once started (the driver,
    Python, the frame buffers); a program that needs more ends it (a `crash`). Length: a program
    longer than `max_source_bytes` (UTF-8) is not compiled (`too_large`).
    """

    frame_seconds: float = Field(5.0, gt=0.0)
    compile_seconds: float = Field(30.0, gt=0.0)
    # None means the built-in default above, resolved here in code rather than written into the
    # resolved recipe: so recipes written before these keys existed keep their sha256.
    memory_mb: int | None = Field(None, ge=64, le=1 << 20)
    max_source_bytes: int | None = Field(None, ge=1, le=1 << 28)

    @property
    def memory_limit_mb(self) -> int:
        return DEFAULT_MEMORY_MB if self.memory_mb is None else self.memory_mb

    @property
    def source_limit_bytes(self) -> int:
        return DEFAULT_MAX_SOURCE_BYTES if self.max_source_bytes is None else self.max_source_bytes


class ShaderSourceConfig(StrictModel):
    kind: Literal["shader"]
    programs: list[ProgramSetEntry] = Field(default_factory=lambda: [ProgramSetEntry(builtin="starter")], min_length=1)
    sampling: SamplingConfig = SamplingConfig()
    time: TimeRange = TimeRange()
    # Views after the first: None draws each view's time independently from `time`;
    # a number s takes t0 + U(-s, s), clipped to `time`, i.e. nearby frames.
    view_time_spread: float | None = Field(None, gt=0.0)
    reject: ShaderRejectConfig = ShaderRejectConfig()
    watchdog: WatchdogConfig = WatchdogConfig()

    @property
    def count_dependence(self) -> str | None:
        """Why sample i depends on the recipe's count (Recipe.count_dependence): `blocked`
        sampling gives each program ceil(count / programs) samples, so the blocks move with it."""
        if self.sampling.mode == "blocked":
            return "source.sampling.mode blocked spreads the programs over the count"
        return None
