"""Shared pieces of the recipe schema: the strict base model, path resolution, safe YAML loading."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationInfo

from synthgen.errors import SynthgenError


class StrictModel(BaseModel):
    """A recipe section: unknown keys are errors, values are checked, nothing is coerced silently."""

    # NaN passes every comparison a validator makes (`nan <= min` is false) and infinity passes
    # upper bounds that are not declared: neither is ever a meaningful setting.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def resolve_path(value: str, info: ValidationInfo) -> str:
    """Resolve a path from a recipe relative to the recipe file's folder, and check it exists.

    The resolved (absolute) path is what the resolved recipe records, so a corpus's manifest
    names exactly what was read.
    """
    base = (info.context or {}).get("base_dir")
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if not path.exists():
        raise ValueError(f"no such file or directory: {path}")
    return str(path.resolve())


def read_yaml_mapping(path: str | Path, what: str, error: type[SynthgenError]) -> dict[str, Any]:
    """The mapping at the top of the YAML file `path` (a recipe, a train config, an experiment).

    Safe loading only: tags that would construct Python objects are refused. Every failure is one
    `error` naming the file and, for bad YAML, the line.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: {what} file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{path}: cannot read the {what}: {getattr(err, 'strerror', None) or err}") from None
    try:
        document = load_yaml(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None)
        raise error(f"{path}: not valid YAML{where}" + (f": {problem}" if problem else "")) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise error(f"{path}: a {what} is a mapping of keys at the top level, not a {type(document).__name__}")
    return document


# Deeper than any recipe, config or experiment needs; deep enough documents overflow the stack
# of the code that walks them (the validators, json, copy).
MAX_YAML_DEPTH = 64
# Python refuses to write an integer of more than 4,300 digits as text (ValueError), so such a
# value could be neither shown in an error nor hashed.
MAX_INT_BITS = 14_000  # about 4,200 digits

# A key that needs no quotes in a dotted field path.
_PLAIN_KEY = re.compile(r"[\w-]+")


def load_yaml(text: str) -> Any:
    """yaml.safe_load for untrusted text: every failure is a yaml.YAMLError.

    Safe loading refuses tags that construct Python objects. On top of it, values the YAML
    library turns into other exceptions (a date such as 2020-13-45, an integer of 5,000 digits,
    nesting deeper than Python's stack) are refused, and so is a document that tree_problem finds
    fault with.
    """
    try:
        document = yaml.safe_load(text)
    except (ValueError, OverflowError) as err:
        raise yaml.MarkedYAMLError(problem=str(err).split(";")[0]) from None
    except RecursionError:
        raise yaml.MarkedYAMLError(problem=f"nested more than {MAX_YAML_DEPTH} levels deep") from None
    problem = tree_problem(document)
    if problem:
        raise yaml.MarkedYAMLError(problem=problem)
    return document


def tree_problem(document: Any) -> str | None:
    """`PATH: problem` for the first node of `document` that nothing downstream can validate, hash
    or copy: nesting deeper than MAX_YAML_DEPTH, a node inside itself (YAML anchors can do that),
    an integer too long to write as text. None when there is none.

    Depth-first with an explicit stack, so that the check itself cannot overflow; a node checked in
    full is not walked again, so repeated anchors cost nothing.
    """
    on_path: set[int] = set()
    done: set[int] = set()
    stack: list[tuple[Any, tuple[str, ...], bool]] = [(document, (), True)]
    while stack:
        node, path, entering = stack.pop()
        if not entering:
            on_path.discard(id(node))
            done.add(id(node))
        elif _huge(node):
            return f"{_where(path)}: an integer of more than 4,000 digits"
        elif not isinstance(node, dict | list) or id(node) in done:
            continue
        elif id(node) in on_path:
            return f"{_where(path)}: an anchor is used inside itself (the document would be endless)"
        elif len(path) >= MAX_YAML_DEPTH:
            return f"{_where(path[:1])}: nested more than {MAX_YAML_DEPTH} levels deep"
        else:
            on_path.add(id(node))
            stack.append((node, path, False))
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                if _huge(key):
                    return f"{_where(path)}: a key is an integer of more than 4,000 digits"
                stack.append((child, (*path, str(key)), True))
    return None


def _where(path: tuple[str, ...]) -> str:
    return dotted_path(path) or "(top level)"


def _huge(value: Any) -> bool:
    return isinstance(value, int) and value.bit_length() > MAX_INT_BITS


def dotted_path(parts: Sequence[str]) -> str:
    """Keys as a dotted field path (`source.time.max`). A key that is empty or holds a dot, a space
    or a line break is quoted as Python quotes it, so that the path stays one unambiguous line
    (`source.'a.b': unknown key`)."""
    return ".".join(part if _PLAIN_KEY.fullmatch(part) else repr(part) for part in parts)
