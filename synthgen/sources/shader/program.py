"""`ShaderProgram`, the one program type, in a module of its own: the program readers (programs.py)
and the generator both make them, and each imports this rather than the other."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ShaderProgram:
    """One program. `id` is stable across machines: `library/001-name`, a path inside its set, or `generated/SEED/N`."""

    id: str
    code: str
    name: str = ""
    tags: tuple[str, ...] = ()
    licence: str = ""
    # Where it was read from: a file path, with `#id` for one shader of a Shadertoy list.
    origin: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.code.encode("utf-8")).hexdigest()
