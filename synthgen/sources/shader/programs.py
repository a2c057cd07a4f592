"""Program sets: where Shadertoy-style programs come from, and how they are read.

A program is the body of a Shadertoy "Image" pass: it defines
`void mainImage(out vec4 fragColor, in vec2 fragCoord)` and uses the Shadertoy uniforms.
Sources: files shipped with synthgen (`builtin`), `.frag`/`.glsl` files, and Shadertoy API
JSON (`{"Shader": {"info": ..., "renderpass": [...]}}`, or a list of such).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from synthgen.errors import SourceError
from synthgen.sources.shader.config import ProgramSetEntry

PROGRAM_SUFFIXES = (".frag", ".glsl")
# Shadertoy pass types that make a program multi-pass (rendered through buffers we don't run).
_MULTIPASS_TYPES = {"buffer", "cubemap"}
_HEADER_LINE = re.compile(r"^\s*//\s*(?P<key>name|tags|licence|license|description)\s*:\s*(?P<value>.*?)\s*$")


@dataclass(frozen=True)
class ShaderProgram:
    """One program. `id` is stable across machines: `starter/01-name` or a path inside its set."""

    id: str
    code: str
    name: str = ""
    tags: tuple[str, ...] = ()
    licence: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.code.encode("utf-8")).hexdigest()


@dataclass
class ProgramSet:
    programs: list[ShaderProgram]
    # Programs found but not usable, by reason (e.g. "multipass").
    skipped: Counter[str] = field(default_factory=Counter)


def load_program_set(entries: Sequence[ProgramSetEntry]) -> ProgramSet:
    """Read every entry, in order; programs keep the order of the entries, then of their paths."""
    result = ProgramSet(programs=[])
    for entry in entries:
        if entry.builtin is not None:
            root = resources.files("synthgen.sources.shader") / "programs" / entry.builtin
            with resources.as_file(root) as folder:
                _read_folder(Path(folder), entry.builtin, result)
        else:
            path = Path(entry.path or "")
            if path.is_dir():
                _read_folder(path, path.name, result)
            else:
                _read_file(path, path.name, result)
    ids = Counter(program.id for program in result.programs)
    duplicates = [pid for pid, n in ids.items() if n > 1]
    if duplicates:
        raise SourceError(f"source.programs: program id {duplicates[0]!r} appears twice; list each set once")
    if not result.programs:
        where = ", ".join(e.builtin or e.path or "" for e in entries)
        skipped = f" ({_describe(result.skipped)} skipped)" if result.skipped else ""
        raise SourceError(f"source.programs: no usable programs found in {where}{skipped}")
    return result


def _describe(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counter.items()))


def _read_folder(folder: Path, prefix: str, result: ProgramSet) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (*PROGRAM_SUFFIXES, ".json"))
    for path in files:
        _read_file(path, f"{prefix}/{path.relative_to(folder).with_suffix('').as_posix()}", result)


def _read_file(path: Path, program_id: str, result: ProgramSet) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SourceError(f"source.programs: cannot read {path}: {err}") from None
    program_id = program_id.removesuffix(path.suffix)
    if path.suffix == ".json":
        result.programs.extend(_from_shadertoy_json(text, path, program_id, result.skipped))
    else:
        result.programs.append(program_from_glsl(program_id, text))


def program_from_glsl(program_id: str, code: str) -> ShaderProgram:
    """A program from GLSL text, reading the optional `// name:` / `// tags:` header comments."""
    header: dict[str, str] = {}
    for line in code.splitlines():
        if not line.strip():
            continue
        match = _HEADER_LINE.match(line)
        if match is None:
            if line.lstrip().startswith("//"):
                continue
            break
        header[match["key"].replace("license", "licence")] = match["value"]
    tags = tuple(t.strip().lower() for t in header.get("tags", "").split(",") if t.strip())
    return ShaderProgram(
        id=program_id,
        code=code,
        name=header.get("name", program_id.rsplit("/", 1)[-1]),
        tags=tags,
        licence=header.get("licence", ""),
    )


def _from_shadertoy_json(text: str, path: Path, program_id: str, skipped: Counter[str]) -> Iterable[ShaderProgram]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise SourceError(f"source.programs: {path} is not valid JSON: {err}") from None
    shaders = document if isinstance(document, list) else [document]
    for shader in shaders:
        if isinstance(shader, dict) and "Shader" in shader:
            shader = shader["Shader"]
        if not isinstance(shader, dict) or not isinstance(shader.get("renderpass"), list):
            raise SourceError(f"source.programs: {path} is not a Shadertoy API shader (no renderpass list)")
        program = _from_shadertoy_shader(shader, program_id, in_list=len(shaders) > 1)
        if isinstance(program, str):
            skipped[program] += 1
        else:
            yield program


def _from_shadertoy_shader(shader: dict[str, Any], program_id: str, in_list: bool) -> ShaderProgram | str:
    """A program, or the reason it is skipped."""
    passes = shader["renderpass"]
    kinds = [str(p.get("type", "image")).lower() for p in passes if isinstance(p, dict)]
    if any(kind in _MULTIPASS_TYPES for kind in kinds):
        return "multipass"
    image = [p for p, kind in zip(passes, kinds, strict=True) if kind == "image"]
    if len(image) != 1 or not isinstance(image[0].get("code"), str):
        return "no_image_pass"
    # The "common" pass is code shared by all passes: prepended to the image pass.
    common = "".join(p.get("code", "") + "\n" for p, kind in zip(passes, kinds, strict=True) if kind == "common")
    info = shader.get("info") if isinstance(shader.get("info"), dict) else {}
    shader_id = str(info.get("id") or program_id.rsplit("/", 1)[-1])
    if in_list:
        program_id = f"{program_id}/{shader_id}"
    tags = info.get("tags") if isinstance(info.get("tags"), list) else []
    return ShaderProgram(
        id=program_id,
        code=common + image[0]["code"],
        name=str(info.get("name") or shader_id),
        tags=tuple(str(t).lower() for t in tags),
        licence=str(info.get("license", "")),
    )
