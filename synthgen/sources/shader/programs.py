"""Program sets: where Shadertoy-style programs come from, and how they are read.

A program is the body of a Shadertoy "Image" pass: it defines
`void mainImage(out vec4 fragColor, in vec2 fragCoord)` and uses the Shadertoy uniforms.
Sources: files shipped with synthgen (`builtin`), `.frag`/`.glsl` files, and Shadertoy API
JSON (`{"Shader": {"info": ..., "renderpass": [...]}}`, or a list of such).

A file that cannot be read as a program (not UTF-8, malformed JSON) is an error naming the file
(and the JSON path) when a recipe names it; found in a folder, it is one skipped program, and
`ProgramSet.problems` says why, so one bad file does not make a whole folder unusable. A folder
scan never reads a corpus: a subfolder synthgen rendered into, or synthgen's own files.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from synthgen.corpus.format import FORMAT_NAME, MANIFEST_NAME, SHARD_SIDECAR, SHARD_TAR
from synthgen.errors import SourceError
from synthgen.sources.shader.config import ProgramSetEntry
from synthgen.sources.shader.generator import generate_programs

# Re-exported: the program type lives in program.py, which the generator imports too.
from synthgen.sources.shader.program import ShaderProgram
from synthgen.text import printable

PROGRAM_SUFFIXES = (".frag", ".glsl")
# Shadertoy pass types that make a program multi-pass (rendered through buffers we don't run).
_MULTIPASS_TYPES = {"buffer", "cubemap"}
_HEADER_LINE = re.compile(r"^\s*//\s*(?P<key>name|tags|licence|license|description)\s*:\s*(?P<value>.*?)\s*$")
# Hidden files a render writes into its destination: temporaries (corpus.storage.TEMP_PREFIX,
# `.synthgen-tmp-*`) and the lock (`.synthgen-lock`).
_CORPUS_HIDDEN_PREFIX = ".synthgen-"


@dataclass
class ProgramSet:
    programs: list[ShaderProgram]
    # Programs found but not usable, by reason (e.g. "multipass", "unreadable").
    skipped: Counter[str] = field(default_factory=Counter)
    # Why each `unreadable` one was skipped: (the file, what is wrong in it). The file is as
    # found, to be escaped (synthgen.text.printable) where it is shown.
    problems: list[tuple[str, str]] = field(default_factory=list)


class _Unreadable(Exception):
    """A file, or one shader of a Shadertoy file, that cannot be read as a program."""


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
                try:
                    _read_file(path, path.stem, entry.format, found, in_folder=False)
                except _Unreadable as err:
                    raise SourceError(f"source.programs: {printable(str(path))}: {err}") from None
        if entry.tags:
            wanted = set(entry.tags)
            found.programs = [p for p in found.programs if wanted.intersection(p.tags)]
        # Ids, names and tags come from files (and file names): they are printed, so escaped.
        result.programs.extend(_escaped(program) for program in found.programs)
        result.skipped.update(found.skipped)
        result.problems.extend(found.problems)
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
    where = entry.builtin or (entry.path and printable(entry.path)) or f"generate {entry.generate}"
    return where + (f" with tags {', '.join(entry.tags)}" if entry.tags else "")


def _describe(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counter.items()))


def _escaped(program: ShaderProgram) -> ShaderProgram:
    tags = tuple(printable(tag) for tag in program.tags)
    if (printable(program.id), printable(program.name), tags) == (program.id, program.name, program.tags):
        return program
    return dataclasses.replace(program, id=printable(program.id), name=printable(program.name), tags=tags)


def _read_folder(folder: Path, prefix: str, fmt: str, result: ProgramSet) -> None:
    files = []
    # os.walk as rglob did (symlinked folders not followed), less the corpora inside the folder.
    for root, subfolders, names in os.walk(folder):
        if Path(root) != folder and _is_corpus_folder(Path(root), names):
            subfolders.clear()
            continue
        for name in names:
            path = Path(root) / name
            if path.suffix in (*PROGRAM_SUFFIXES, ".json") and not _is_corpus_file(path) and path.is_file():
                files.append(path)
    for path in sorted(files):
        try:
            program_id = f"{prefix}/{path.relative_to(folder).with_suffix('').as_posix()}"
            _read_file(path, program_id, fmt, result, in_folder=True)
        except _Unreadable as err:
            result.skipped["unreadable"] += 1
            result.problems.append((str(path), str(err)))


def _is_corpus_file(path: Path) -> bool:
    """A file of synthgen's corpus format: a shard's sidecar, a corpus manifest, a temporary."""
    name = path.name
    if name.startswith(_CORPUS_HIDDEN_PREFIX) or SHARD_SIDECAR.match(name):
        return True
    return name == MANIFEST_NAME and _is_corpus_manifest(path)


def _is_corpus_folder(folder: Path, names: Sequence[str]) -> bool:
    """A folder synthgen renders (or rendered) a corpus into: it holds shards or their sidecars,
    its lock or temporaries, or a manifest of the corpus format."""
    return any(SHARD_TAR.match(name) or _is_corpus_file(folder / name) for name in names)


def _is_corpus_manifest(path: Path) -> bool:
    # `manifest.json` is a common name: a folder holding one is a corpus only if it says so.
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(document, dict) and document.get("format") == FORMAT_NAME


def _read_file(path: Path, program_id: str, fmt: str, result: ProgramSet, *, in_folder: bool) -> None:
    """Read one file's programs into `result`; raises _Unreadable for a file that is not a program
    file, or, when `in_folder` is false, that holds any shader that is not."""
    if path.suffix == ".txt":
        _read_list(path, fmt, result)
        return
    text = _read_text(path)
    if path.suffix == ".json":
        result.programs.extend(_from_shadertoy_json(text, path, program_id, result, in_folder))
    elif fmt == "auto":
        result.programs.append(dataclasses.replace(program_from_glsl(program_id, text), origin=str(path)))
    else:
        result.programs.append(dataclasses.replace(program_from_twigl(program_id, text, fmt), origin=str(path)))


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise _Unreadable(f"cannot read: {err.strerror or err}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        # GLSL is ASCII: a byte that is not UTF-8, even in a comment, is not replaced, since
        # replacing it inside code would change the program.
        line = data.count(b"\n", 0, err.start) + 1
        raise _Unreadable(f"not UTF-8 text: byte 0x{data[err.start]:02x} at offset {err.start} (line {line})") from None


def _read_list(path: Path, fmt: str, result: ProgramSet) -> None:
    """A `.txt` list: one program file per line (relative to the list's folder); `file.json#id`
    picks one shader of a Shadertoy export; blank lines and lines starting with `#` are skipped.
    Every file a list names must read: the list says these programs, exactly."""
    shown = printable(str(path))
    try:
        lines = _read_text(path).splitlines()
    except _Unreadable as err:
        raise SourceError(f"source.programs: {shown}: {err}") from None
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, shader_id = line.partition("#")
        target = (path.parent / name).resolve()
        if not target.is_file():
            raise SourceError(f"source.programs: {shown}:{number}: no such program file {name!r}")
        if target.suffix == ".txt":
            raise SourceError(f"source.programs: {shown}:{number}: a program list cannot name another list")
        program_id = f"{path.stem}/{Path(name).with_suffix('').as_posix()}"
        found = ProgramSet(programs=[])
        try:
            _read_file(target, program_id, fmt, found, in_folder=False)
        except _Unreadable as err:
            raise SourceError(f"source.programs: {shown}:{number}: {printable(name)}: {err}") from None
        if shader_id:
            found.programs = [p for p in found.programs if p.id.rsplit("/", 1)[-1] == shader_id]
            if not found.programs:
                raise SourceError(f"source.programs: {shown}:{number}: no shader {shader_id!r} in {name!r}")
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
    # The newlines a removed statement spanned stay (`^\s*` takes the blank lines before it), so that
    # compiler messages give the file's line numbers.
    body = re.sub(r"^\s*precision\s+\w+\s+float\s*;", lambda m: "\n" * m.group().count("\n"), body, flags=re.MULTILINE)
    header = program_from_glsl(program_id, code)
    return ShaderProgram(
        id=program_id,
        code=_TWIGL_PROLOGUE + "#line 1\n" + body + "\n}\n",
        name=header.name,
        tags=(*header.tags, fmt),
        licence=header.licence,
    )


def _from_shadertoy_json(
    text: str, path: Path, program_id: str, result: ProgramSet, in_folder: bool
) -> Iterable[ShaderProgram]:
    """The programs of a Shadertoy API file. A malformed shader of a list is one skipped program
    when the file was found in a folder; otherwise, and for a malformed file, _Unreadable."""
    try:
        document = json.loads(text)
    except RecursionError:
        raise _Unreadable("not valid JSON: nested too deeply") from None
    except ValueError as err:  # JSONDecodeError, and an integer of too many digits
        raise _Unreadable(f"not valid JSON: {err}") from None
    if not isinstance(document, (list, dict)):
        raise _Unreadable(f"expected a Shadertoy API shader (an object) or a list of them, got {_json_type(document)}")
    shaders = document if isinstance(document, list) else [document]
    in_list = len(shaders) > 1
    for number, shader in enumerate(shaders):
        where = f"[{number}]" if isinstance(document, list) else ""
        try:
            program = _from_shadertoy_shader(shader, where, program_id, in_list)
        except _Unreadable as err:
            if not (in_folder and in_list):
                raise
            result.skipped["unreadable"] += 1
            result.problems.append((str(path), str(err)))
            continue
        if isinstance(program, str):
            result.skipped[program] += 1
        else:
            origin = f"{path}#{program.id.rsplit('/', 1)[-1]}" if in_list else str(path)
            yield dataclasses.replace(program, origin=origin)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _field(value: Any, where: str, kind: type | tuple[type, ...], expected: str, optional: bool = True) -> Any:
    """`value` if it is of `kind` (or absent/null and `optional`); else _Unreadable naming `where`.
    A boolean is not a number here, though Python's bool is an int."""
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _Unreadable(f"{where}: expected {expected}, got {_json_type(value)}")
    return value


def _from_shadertoy_shader(shader: Any, where: str, program_id: str, in_list: bool) -> ShaderProgram | str:
    """A program, or the reason it is skipped; `where` is its JSON path in the file (`[3]`)."""
    if isinstance(shader, dict) and "Shader" in shader:
        shader, where = shader["Shader"], f"{where}.Shader" if where else "Shader"
    # A list element (`[3]`) or `Shader`: the whole file is an object, checked before.
    _field(shader, where, dict, "an object", optional=False)
    if "renderpass" not in shader:
        prefix = f"{where}: " if where else ""
        raise _Unreadable(f"{prefix}not a Shadertoy API shader (no renderpass list)")
    where = f"{where}." if where else ""
    passes = _field(shader["renderpass"], f"{where}renderpass", list, "a list", optional=False)
    kinds = []
    for number, render_pass in enumerate(passes):
        at = f"{where}renderpass[{number}]"
        _field(render_pass, at, dict, "an object", optional=False)
        kind = (_field(render_pass.get("type"), f"{at}.type", str, "a string") or "image").lower()
        if kind in ("image", "common"):
            _field(render_pass.get("code"), f"{at}.code", str, "a string", optional=False)
        kinds.append(kind)
    if any(kind in _MULTIPASS_TYPES for kind in kinds):
        return "multipass"
    image = [p for p, kind in zip(passes, kinds, strict=True) if kind == "image"]
    if len(image) != 1:
        return "no_image_pass"
    # The "common" pass is code shared by all passes: prepended to the image pass, whose lines
    # keep their numbers in compiler messages.
    common = "".join(p["code"] + "\n" for p, kind in zip(passes, kinds, strict=True) if kind == "common")
    common += "#line 1\n" if common else ""
    info = _field(shader.get("info"), f"{where}info", dict, "an object") or {}
    raw_id = _field(info.get("id"), f"{where}info.id", (str, int), "a string")
    # Escaped now, as the id goes into the program's origin (`file.json#id`), which a good list
    # written by `shaders check` holds, one a line.
    shader_id = printable(str(raw_id or program_id.rsplit("/", 1)[-1]))
    if in_list:
        program_id = f"{program_id}/{shader_id}"
    tags = _field(info.get("tags"), f"{where}info.tags", list, "a list") or []
    for number, tag in enumerate(tags):
        _field(tag, f"{where}info.tags[{number}]", str, "a string", optional=False)
    return ShaderProgram(
        id=program_id,
        code=common + image[0]["code"],
        name=_field(info.get("name"), f"{where}info.name", str, "a string") or shader_id,
        tags=tuple(tag.lower() for tag in tags),
        licence=_field(info.get("license"), f"{where}info.license", str, "a string") or "",
    )
