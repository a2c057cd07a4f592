"""What only the user may allow: running code a recipe names, and unpickling a checkpoint.

A recipe is a file that others may have written. Two of its keys can make synthgen run code:
a gan `generator: "package.module:function"` (the module is imported and the function called)
and a `checkpoint` that only full unpickling reads (unpickling can call any function). Neither
runs because a recipe asks: the user allows them on the command line, or in the environment,
naming what is allowed:

- `--allow-code MODULE` (repeatable) or `SYNTHGEN_ALLOW_CODE=mod1,mod2`: a factory in MODULE, or
  in a module of the package MODULE (`--allow-code mygens` allows `mygens.biggan:make`);
- `--trust-pickle FILE_OR_SHA256` (repeatable) or `SYNTHGEN_TRUST_PICKLE=...,...`: that file
  (its path, resolved when the permission is made) or any file with that sha256.

The permission is not part of the recipe or its hash: a corpus is the same whoever allowed it.
The commands build one frozen `Permissions` (flags and environment together) and hand it to the
library (`render_corpus(..., permissions=...)`, carried to every render worker); a library call
given none reads the environment only, so by default nothing is allowed. Training reads the
permissions in effect where its live recipes are opened (`granting`), since the training loop
takes none of its own.

Light: no torch, no pydantic; a recipe is only read here.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from synthgen.errors import NotAllowedError

if TYPE_CHECKING:
    from synthgen.recipe import Recipe

ALLOW_CODE_ENV = "SYNTHGEN_ALLOW_CODE"
TRUST_PICKLE_ENV = "SYNTHGEN_TRUST_PICKLE"
_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class Permissions:
    """Modules whose code a recipe may run, and pickle files it may have unpickled.

    Build it with `Permissions.allowing(...)` or `load_permissions(...)` (which also reads the
    environment); the fields hold normalised values (module names, resolved paths, lowercase
    sha256s). Frozen and picklable: it travels to render and loader workers as it is.
    """

    allow_code: frozenset[str] = frozenset()
    trusted_files: frozenset[str] = frozenset()
    trusted_sha256: frozenset[str] = frozenset()

    @classmethod
    def allowing(
        cls,
        allow_code: Iterable[str] = (),
        trust_pickle: Iterable[str] = (),
        *,
        code_flag: str = "--allow-code",
        pickle_flag: str = "--trust-pickle",
    ) -> Permissions:
        """Permissions for these modules and pickle files (paths, or sha256 hex digests).

        A path is resolved now, against the current folder. A value that is not a module name is
        a NotAllowedError naming `code_flag` (the flag or environment variable it came from).
        """
        modules = set()
        for name in allow_code:
            name = name.strip()
            if not _MODULE.match(name):
                raise NotAllowedError(
                    f"{code_flag} {name!r}: expected a module or package name, such as mygens or mygens.biggan"
                )
            modules.add(name)
        files, digests = set(), set()
        for value in trust_pickle:
            value = value.strip()
            if not value:
                raise NotAllowedError(f"{pickle_flag}: expected a checkpoint file or its sha256, got an empty value")
            if _SHA256.match(value):
                digests.add(value.lower())
            else:
                files.add(str(Path(value).expanduser().resolve()))
        return cls(frozenset(modules), frozenset(files), frozenset(digests))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Permissions:
        """What SYNTHGEN_ALLOW_CODE and SYNTHGEN_TRUST_PICKLE allow (comma-separated lists)."""
        return load_permissions(environ=environ)

    def __or__(self, other: Permissions) -> Permissions:
        return Permissions(
            self.allow_code | other.allow_code,
            self.trusted_files | other.trusted_files,
            self.trusted_sha256 | other.trusted_sha256,
        )

    def allows_module(self, module: str) -> bool:
        """True if `module`, or a package it is in, is allowed (importing a.b runs a's code too,
        so allowing the package `a` is what allowing a.b's code amounts to)."""
        parts = module.split(".")
        return any(".".join(parts[:n]) in self.allow_code for n in range(1, len(parts) + 1))

    def trusts_pickle(self, path: str | Path) -> bool:
        """True if the file at `path` may be fully unpickled: by its path, or by its sha256."""
        if str(Path(path).resolve()) in self.trusted_files:
            return True
        return bool(self.trusted_sha256) and file_sha256(path) in self.trusted_sha256


def load_permissions(
    allow_code: Iterable[str] = (), trust_pickle: Iterable[str] = (), environ: Mapping[str, str] | None = None
) -> Permissions:
    """The command line's permissions: the flags' values and the environment variables'."""
    environ = os.environ if environ is None else environ
    from_env = Permissions.allowing(
        _items(environ.get(ALLOW_CODE_ENV, "")),
        _items(environ.get(TRUST_PICKLE_ENV, "")),
        code_flag=ALLOW_CODE_ENV,
        pickle_flag=TRUST_PICKLE_ENV,
    )
    return from_env | Permissions.allowing(allow_code, trust_pickle)


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


# --- the permissions in effect ------------------------------------------------------------------

_granted: contextvars.ContextVar[Permissions | None] = contextvars.ContextVar("synthgen_permissions", default=None)


@contextlib.contextmanager
def granting(permissions: Permissions | None) -> Iterator[None]:
    """Within the block, `current_permissions()` is `permissions` (None: changes nothing).

    For code that builds sources without taking permissions itself (the training loop opening
    its live recipes; `GanSource.check`): the caller says once what the user allowed.
    """
    if permissions is None:
        yield
        return
    token = _granted.set(permissions)
    try:
        yield
    finally:
        _granted.reset(token)


def current_permissions() -> Permissions:
    """The permissions a `granting` block gave, else what the environment variables allow."""
    granted = _granted.get()
    return granted if granted is not None else Permissions.from_env()


def resolve_permissions(permissions: Permissions | None) -> Permissions:
    """`permissions`, or the ones in effect when None is given."""
    return permissions if permissions is not None else current_permissions()


# --- what a recipe asks ---------------------------------------------------------------------------


def code_asked(recipe: Recipe) -> list[tuple[str, str]]:
    """The code a recipe runs: (key, "package.module:function") for each factory it names."""
    generator = getattr(recipe.source, "generator", None)
    return [("source.generator", generator)] if isinstance(generator, str) else []


def check_code_allowed(recipe: Recipe, permissions: Permissions | None = None, origin: str | None = None) -> None:
    """NotAllowedError, in one line naming `origin` (the recipe file; default: the recipe's
    name), the key and the flag that allows it, unless every factory the recipe names is allowed.

    Call it before anything imports the factory's module: importing runs the module's code.
    """
    permissions = resolve_permissions(permissions)
    for key, factory in code_asked(recipe):
        module = factory.partition(":")[0]
        if not permissions.allows_module(module):
            where = origin or f"recipe {recipe.name}"
            raise NotAllowedError(
                f"{where}: {key}: the recipe runs code from module {module!r} ({factory}); "
                f"allow it with --allow-code {module} (or {ALLOW_CODE_ENV}={module})"
            )


def check_pickle_trusted(path: str, permissions: Permissions | None = None, key: str = "source.checkpoint") -> None:
    """NotAllowedError, in one line naming the file and how to trust it, unless the file at
    `path` (one that only full unpickling reads) is trusted."""
    if resolve_permissions(permissions).trusts_pickle(path):
        return
    raise NotAllowedError(
        f"{key}: {path} is a pickle that only full unpickling reads, which can run code; if you trust "
        f"this file, pass --trust-pickle {path} (or its sha256, {file_sha256(path)})"
    )


def describe(recipe: Recipe, permissions: Permissions | None = None) -> list[str]:
    """One line per thing the recipe asks that needs the user's permission, and whether it has it
    (what `synthgen validate` prints)."""
    permissions = resolve_permissions(permissions)
    lines = []
    for key, factory in code_asked(recipe):
        module = factory.partition(":")[0]
        state = "allowed" if permissions.allows_module(module) else f"not allowed (--allow-code {module})"
        lines.append(f"{key}: runs code from module {module!r} ({factory}): {state}")
    checkpoint = getattr(recipe.source, "checkpoint", None)
    if isinstance(checkpoint, str):
        # Not opened here (a placeholder path validates): whether it is a pickle shows at render.
        trusted = Path(checkpoint).is_file() and permissions.trusts_pickle(checkpoint)
        state = "trusted" if trusted else f"refused unless trusted (--trust-pickle {checkpoint} or its sha256)"
        lines.append(f"source.checkpoint: read as safetensors or weights only; full unpickling {state}")
    return lines


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
