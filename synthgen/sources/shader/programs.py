"""Program sets: where Shadertoy-style programs come from, and how they are read.

A program is the body of a Shadertoy "Image" pass: it defines
`void mainImage(out vec4 fragColor, in vec2 fragCoord)` and uses the Shadertoy uniforms.
Sources: files shipped with synthgen (`builtin`), `.frag`/`.glsl` files, and Shadertoy API
JSON (`{"Shader": {"info": ..., "renderpass": [...]}}`, or a list of such).
"""

from __future__ import annotations

import dataclasses
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
from synthgen.sources.shader.generator import generate_programs
# Re-exported: the program type lives in program.py, which the generator imports too.
from synthgen.sources.shader.program import ShaderProgram

PROGRAM_SUFFIXES = (".frag", ".glsl")
# Shadertoy pass types that make a program multi-pass (rendered through buffers we don't run).
_MULTIPASS_TYPES = {"buffer", "cubemap"}
_HEADER_LINE = re.compile(r"^\s*//\s*(?P<key>name|tags|licence|license|description)\s*:\s*(?P<value>.*?)\s*$")


@dataclass
class ProgramSet:
    programs: list[ShaderProgram]
    # Programs found but not usable, by reason (e.g. "multipass").
    skipped: Counter[str] = field(default_factory=Counter)


def load_program_set(entries: Sequence[ProgramSetEntry]) -> ProgramSet:
    """Read every entry, in order; programs keep the order of the entries, then of their paths."""
    result = ProgramSet(programs=[])
    for entry in entries:
        found = ProgramSet(programs=[])
        if entry.builtin is not None:
            root = resources.files("synthgen.sources.shader") / "programs" / "library"
            with resources.as_file(root) as folder:
                _read_folder(Path(folder), "library", "auto", found)
            if entry.builtin == "starter":
                found.programs = [p for p in found.programs if "starter" in p.tags]
        elif entry.generate is not None:
            found.programs = generate_programs(entry.generate, entry.seed or 0)
        else:
            path = Path(entry.path or "")
            if path.is_dir():
                _read_folder(path, path.name, entry.format, found)
            else:
                _read_file(path, path.stem, entry.format, found)
        if entry.tags:
            wanted = set(entry.tags)
            found.programs = [p for p in found.programs if wanted.intersection(p.tags)]
        result.programs.extend(found.programs)
        result.skipped.update(found.skipped)
    ids = Counter(program.id for program in result.programs)
    duplicates = [pid for pid, n in ids.items() if n > 1]
    if duplicates:
        raise SourceError(f"source.programs: program id {duplicates[0]!r} appears twice; list each set once")
    if not result.programs:
        where = ", ".join(_describe_entry(e) for e in entries)
        skipped = f" ({_describe(result.skipped)} skipped)" if result.skipped else ""
        raise SourceError(f"source.programs: no usable programs found in {where}{skipped}")
    return result


def _describe_entry(entry: ProgramSetEntry) -> str:
    where = entry.builtin or entry.path or f"generate {entry.generate}"
    return where + (f" with tags {', '.join(entry.tags)}" if entry.tags else "")


def _describe(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counter.items()))


def _read_folder(folder: Path, prefix: str, fmt: str, result: ProgramSet) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (*PROGRAM_SUFFIXES, ".json"))
    for path in files:
        _read_file(path, f"{prefix}/{path.relative_to(folder).with_suffix('').as_posix()}", fmt, result)


def _read_file(path: Path, program_id: str, fmt: str, result: ProgramSet) -> None:
    if path.suffix == ".txt":
        _read_list(path, fmt, result)
        return
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SourceError(f"source.programs: cannot read {path}: {err}") from None
    if path.suffix == ".json":
        result.programs.extend(_from_shadertoy_json(text, path, program_id, result.skipped))
    elif fmt == "auto":
        result.programs.append(dataclasses.replace(program_from_glsl(program_id, text), origin=str(path)))
    else:
        result.programs.append(dataclasses.replace(program_from_twigl(program_id, text, fmt), origin=str(path)))


def _read_list(path: Path, fmt: str, result: ProgramSet) -> None:
    """A `.txt` list: one program file per line (relative to the list's folder); `file.json#id`
    picks one shader of a Shadertoy export; blank lines and lines starting with `#` are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise SourceError(f"source.programs: cannot read {path}: {err}") from None
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, shader_id = line.partition("#")
        target = (path.parent / name).resolve()
        if not target.is_file():
            raise SourceError(f"source.programs: {path}:{number}: no such program file {name!r}")
        if target.suffix == ".txt":
            raise SourceError(f"source.programs: {path}:{number}: a program list cannot name another list")
        program_id = f"{path.stem}/{Path(name).with_suffix('').as_posix()}"
        found = ProgramSet(programs=[])
        _read_file(target, program_id, fmt, found)
        if shader_id:
            found.programs = [p for p in found.programs if p.id.rsplit("/", 1)[-1] == shader_id]
            if not found.programs:
                raise SourceError(f"source.programs: {path}:{number}: no shader {shader_id!r} in {name}")
        result.programs.extend(found.programs)
        result.skipped.update(found.skipped)


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


# TwiGL (twigl.app) "geek" and "geeker" modes: the body of main() with short names. FC is
# gl_FragCoord, r the resolution, t the time, f the frame, m the mouse; geek writes
# gl_FragColor, geeker writes `o`. (The backbuffer `b`, the sound input and the "geekest"
# helper library are not provided; classic mode is a plain GLSL ES 1.0 program, not supported.)
_TWIGL_PROLOGUE = """void mainImage(out vec4 o, in vec2 synthgen_fragCoord) {
    vec4 FC = vec4(synthgen_fragCoord, 0.0, 1.0);
    vec2 r = iResolution.xy;
    vec2 m = vec2(0.5);
    float t = iTime;
    float f = float(iFrame);
    o = vec4(0.0, 0.0, 0.0, 1.0);
"""


def program_from_twigl(program_id: str, code: str, fmt: str) -> ShaderProgram:
    """A Shadertoy-style program from a TwiGL geek or geeker body."""
    body = re.sub(r"\bgl_FragColor\b", "o", code) if fmt == "twigl-geek" else code
    body = re.sub(r"^\s*precision\s+\w+\s+float\s*;", "", body, flags=re.MULTILINE)
    header = program_from_glsl(program_id, code)
    return ShaderProgram(
        id=program_id,
        code=_TWIGL_PROLOGUE + "#line 1\n" + body + "\n}\n",
        name=header.name,
        tags=(*header.tags, fmt),
        licence=header.licence,
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
            origin = f"{path}#{program.id.rsplit('/', 1)[-1]}" if len(shaders) > 1 else str(path)
            yield dataclasses.replace(program, origin=origin)


def _from_shadertoy_shader(shader: dict[str, Any], program_id: str, in_list: bool) -> ShaderProgram | str:
    """A program, or the reason it is skipped."""
    passes = shader["renderpass"]
    kinds = [str(p.get("type", "image")).lower() for p in passes if isinstance(p, dict)]
    if any(kind in _MULTIPASS_TYPES for kind in kinds):
        return "multipass"
    image = [p for p, kind in zip(passes, kinds, strict=True) if kind == "image"]
    if len(image) != 1 or not isinstance(image[0].get("code"), str):
        return "no_image_pass"
    # The "common" pass is code shared by all passes: prepended to the image pass, whose lines
    # keep their numbers in compiler messages.
    common = "".join(p.get("code", "") + "\n" for p, kind in zip(passes, kinds, strict=True) if kind == "common")
    common += "#line 1\n" if common else ""
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
