"""Compiler messages in the user's terms: the program's own file and line, not synthgen's wrapper.

A program reaches the driver wrapped (gl.py): a prelude of uniforms ending in `#line 1`, so the
driver numbers the program's lines as its file does, and an epilogue defining `main()`, which calls
`mainImage`, numbered from WRAPPER_LINE so that an error located there is known to be the wrapper's.
(`#line N S` would tag the epilogue with another source-string number, but Mesa ignores S.)

Two steps, because the parts that know each thing live in different processes:
- `compile_log(driver_text, code)`, in the render process, which has the code: the driver's error
  lines without moderngl's banner, errors in the wrapper said in Shadertoy's terms, and a program
  that defines its own `main()` told to define `mainImage` instead. Located errors keep the driver's
  form (Mesa `0:LINE(COL): error: ...`, NVIDIA `0(LINE) : error C...`), so a reader of the bare log
  (`shaders check`) still finds the line.
- `locate(log, where)`, in the parent, which knows the program's file: those prefixes become
  `file:LINE:COL: ` (`file:LINE: ` for NVIDIA, which gives no column); other text is left as it is.
"""

from __future__ import annotations

import re

# The epilogue's first line number: past the last line of any program the watchdog lets through
# (watchdog.max_source_bytes is at most 2**28 bytes, so as many lines), and inside a 32-bit int.
WRAPPER_LINE = 1_000_000_000

MAINIMAGE = "void mainImage(out vec4 fragColor, in vec2 fragCoord)"
MAIN_HINT = (
    "error: the program defines its own main(): a Shadertoy program defines "
    f"`{MAINIMAGE}` instead, and synthgen adds main() itself"
)
# The epilogue's call of mainImage failed: there is none, or it takes other parameters.
_NO_MAINIMAGE = f"error: the program defines no mainImage: a Shadertoy program defines `{MAINIMAGE}`"
_OTHER_MAINIMAGE = f"error: the program's mainImage is not `{MAINIMAGE}`"
_GL_FRAGCOLOR = (
    "error: the program writes gl_FragColor: a Shadertoy program sets mainImage's `out vec4 fragColor` instead"
)
# Errors kept per program: the first is nearly always the one to fix; later ones often follow from it.
MAX_ERRORS = 3

# A location at the start of a message, or after the "; " that joins a program's errors.
_MESA = re.compile(r"(?:^|(?<=; ))\d+:(?P<line>\d+)\((?P<column>\d+)\): ")
_NVIDIA = re.compile(r"(?:^|(?<=; ))\d+\((?P<line>\d+)\) : ")
# compile_log's own errors, which have no line.
_UNLOCATED = re.compile(r"(?:^|(?<=; ))(?=error: )")
_LOCATED = re.compile(r"^(?:\d+:(?P<mesa>\d+)\(\d+\)|\d+\((?P<nvidia>\d+)\) ): ")
_COMMENT = re.compile(r"//[^\n]*|/\*.*?(?:\*/|$)", re.DOTALL)
_MAIN = re.compile(r"\bvoid\s+main\s*\(")
_MAINIMAGE = re.compile(r"\bmainImage\b")
_LINE_DIRECTIVE = re.compile(r"^\s*#\s*line\s+(\d+)")


def compile_log(driver_text: str, code: str) -> str:
    """The errors of a failed compile of `code` (as wrapped by gl.wrap_program), joined by "; "."""
    lines = [line.strip() for line in driver_text.splitlines()]
    errors = [line for line in lines if "error" in line.lower() and line != "GLSL Compiler failed"]
    if not errors:  # not a format we know: the driver's text as it is, shortened
        return " ".join(line for line in lines if line)[:300]
    bare = _without_comments(code)
    main = main_definition(bare)
    if main is not None:
        # Checked after a failed compile, not before: a program that compiles (a `void main(` in an
        # `#if 0` block) is never second-guessed, and the check costs nothing on the good path. Its
        # other errors (an undeclared gl_FragColor) follow from writing a plain GLSL program.
        line, column = main
        return f"0:{line}({column}): {MAIN_HINT}"
    kept: list[str] = []
    for error in errors:
        if "synthgen_" in error:  # e.g. "writes to both `gl_FragColor' and `synthgen_FragColor'"
            error = _GL_FRAGCOLOR
        else:
            located = _LOCATED.match(error)
            line = located and int(located["mesa"] or located["nvidia"])
            if line and line >= WRAPPER_LINE:
                error = _OTHER_MAINIMAGE if _MAINIMAGE.search(bare) else _NO_MAINIMAGE
        if error not in kept:
            kept.append(error)
    return "; ".join(kept[:MAX_ERRORS])


def locate(log: str, where: str) -> str:
    """`log` (from compile_log) with each driver location as `where:LINE:COL: `."""
    log = _MESA.sub(lambda m: f"{where}:{m['line']}:{m['column']}: " if m["line"] != "0" else f"{where}: ", log)
    log = _NVIDIA.sub(lambda m: f"{where}:{m['line']}: " if m["line"] != "0" else f"{where}: ", log)
    log = _UNLOCATED.sub(lambda _: f"{where}: ", log)
    if not log.startswith(f"{where}:"):  # an error with no location (a link error): still name the program
        log = f"{where}: {log}"
    return log


def main_definition(code: str) -> tuple[int, int] | None:
    """(line, column) of a `void main(` in `code` outside comments, with lines numbered as the
    driver numbers them (`#line` directives followed); None when there is none."""
    bare = _without_comments(code)
    match = _MAIN.search(bare)
    if match is None:
        return None
    before = bare[: match.start()].split("\n")
    line = 1
    for text in before[:-1]:
        directive = _LINE_DIRECTIVE.match(text)
        line = int(directive.group(1)) if directive else line + 1
    return line, len(before[-1]) + 1


def _without_comments(code: str) -> str:
    """`code` with its comments made spaces, newlines kept, so that positions stay where they were."""
    return _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), code)
