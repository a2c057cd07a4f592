"""What every YAML document of synthgen (a recipe, a train config, an experiment) is made of:
the strict base model, paths, ranges, tagged variants, safe YAML loading, `KEY=VALUE`
overrides, and error messages that name the field path the user wrote."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from synthgen.errors import DocumentError, SynthgenError


class StrictModel(BaseModel):
    """A recipe section: unknown keys are errors, values are checked, nothing is coerced silently."""

    # NaN passes every comparison a validator makes (`nan <= min` is false) and infinity passes
    # upper bounds that are not declared: neither is ever a meaningful setting.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def document_path(value: str, info: ValidationInfo) -> str:
    """`value` as an absolute path: relative to the folder of the document being validated (the
    `base_dir` of the validation context), else to the working directory.

    The resolved document records it, so a corpus's manifest names exactly what was read.
    """
    base = (info.context or {}).get("base_dir")
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return str(path.resolve())


def existing_document_path(value: str, info: ValidationInfo) -> str:
    """document_path, for a file or folder that must exist when the document is read."""
    path = document_path(value, info)
    if not Path(path).exists():
        raise ValueError(f"no such file or directory: {path}")
    return path


def document_spec(value: str, info: ValidationInfo) -> str:
    """A `SCHEME:PATH` spec (a dataset: `idx:data/fmnist`) with a local PATH resolved as
    document_path does; a URL (`wds:s3://bucket/shard-{0..9}.tar`) stays as written."""
    scheme, sep, rest = value.partition(":")
    if not sep or not rest or "://" in rest:
        return value
    return f"{scheme}:{document_path(rest, info)}"


# A path in a document, resolved (document_path): read later, by the code that uses it (so a
# shared recipe with a placeholder path still validates).
DocumentPath = Annotated[str, AfterValidator(document_path)]
# A path in a document, resolved, that must exist now.
ExistingPath = Annotated[str, AfterValidator(existing_document_path)]
# A `SCHEME:PATH` spec whose local PATH is resolved (document_spec).
DocumentSpec = Annotated[str, AfterValidator(document_spec)]


def check_above(value: Any, info: ValidationInfo, low_name: str, *, strict: bool = True) -> Any:
    """Check `value` against the sibling field `low_name`, declared (and so validated) before it;
    nothing to check when that field was invalid (its own error says enough)."""
    low = info.data.get(low_name)
    if low is not None and (value <= low if strict else value < low):
        raise ValueError(f"must be {'>' if strict else '>='} {low_name} ({low})")
    return value


class Range(StrictModel):
    """The bounds [min, max] of a uniform draw.

    A subclass declares `min` and then `max`, with its own limits and defaults, and `max` with
    `validate_default=True`, so that a document raising only `min` past the default `max` is
    caught too.
    """

    # Whether max may equal min: an integer range [3, 3] is one value, a float range needs width.
    max_may_equal_min: ClassVar[bool] = False

    @field_validator("max", check_fields=False)
    @classmethod
    def _max_above_min(cls, value: Any, info: ValidationInfo) -> Any:
        return check_above(value, info, "min", strict=not cls.max_may_equal_min)


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


def document_differences(before: Any, after: Any, skip: Iterable[tuple[str, ...]] = ()) -> list[tuple[str, Any, Any]]:
    """(dotted key, value before, value after) for each setting that differs between two resolved
    documents, in key order: mappings are compared key by key (a key one of them lacks is None
    there), any other value whole; the keys in `skip` (paths of keys) are left out."""
    skipped = set(skip)

    def walk(a: Any, b: Any, path: tuple[str, ...]) -> list[tuple[str, Any, Any]]:
        if path in skipped:
            return []
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            return [d for key in sorted(set(a) | set(b)) for d in walk(a.get(key), b.get(key), (*path, key))]
        return [] if a == b else [(dotted_path(path), a, b)]

    return walk(before, after, ())


# A list index in a dotted key (`source.programs.0`).
_INDEX = re.compile(r"[0-9]{1,9}")


# A flag's value that reads the same on a command line without quotes.
_PLAIN_VALUE = re.compile(r"[\w.,:/@+=~%\[\]{}-]+")


def flag_text(flag: str, value: str) -> str:
    """`--set model.arch=resnet-18` as an error names the setting: the value bare when it needs no
    quotes, else quoted as Python quotes it (spaces, quotes and line breaks stay on one line)."""
    return f"{flag} {value if _PLAIN_VALUE.fullmatch(value) else repr(value)}"


@dataclass(frozen=True)
class Origin:
    """The setting that gave a key of a document, as an error names it: a flag (`--arch`,
    `--set model.arch=x`: `path` None), or a key of another document (the study file that set a
    recipe's `image.size`: `label` that file, `path` the key's own path there)."""

    label: str
    path: tuple[str, ...] | None = None


def setting_label(origin: Origin | str | None, default: str) -> str:
    """How an error names the setting `origin` (`--arch`; `study.yaml: render.set.image.size`), or
    `default` when there is none."""
    if origin is None:
        return default
    if isinstance(origin, str):
        return origin
    return origin.label if origin.path is None else f"{origin.label}: {dotted_path(origin.path)}"


class Origins:
    """Which setting gave each key of a document: the file it was read from (`document`), unless a
    flag or another document set the key afterwards (`record`). An error is blamed on the setting
    that gave the key it is about (`--arch: unknown architecture ...`, not the config file's name)."""

    def __init__(self, document: str) -> None:
        self.document = document
        self._given: dict[tuple[str, ...], Origin] = {}

    def record(self, key: str | Sequence[str], origin: Origin | str) -> None:
        parts = tuple(key.split(".")) if isinstance(key, str) else tuple(key)
        # What an earlier setting gave at or below this key is replaced with it.
        for known in [known for known in self._given if known[: len(parts)] == parts]:
            del self._given[known]
        self._given[parts] = origin if isinstance(origin, Origin) else Origin(origin)

    def given(self, path: Sequence[str]) -> tuple[Origin, tuple[str, ...]]:
        """The setting that gave the key at `path` (that of the longest recorded key `path` starts
        with; else the document itself, Origin(document, ())) and the part of `path` below its key."""
        path = tuple(path)
        for depth in range(len(path), 0, -1):
            origin = self._given.get(path[:depth])
            if origin is not None:
                return origin, path[depth:]
        return Origin(self.document, ()), path

    def blame(self, path: Sequence[str]) -> tuple[str, str]:
        """(label, the field path to show after it) for an error at `path`: a flag's label alone when
        the error is about the key it set (`--arch`), a document's label and the path as that
        document writes it (`study.yaml`, `render.set.image.size`)."""
        origin, below = self.given(path)
        shown = (*origin.path, *below) if origin.path is not None else below
        if origin.path is not None and not shown:
            return origin.label, "(top level)"
        return origin.label, dotted_path(shown)


def apply_override(
    document: dict[str, Any],
    override: str,
    error: type[DocumentError] = DocumentError,
    origins: Origins | None = None,
) -> None:
    """Apply one `a.b.c=VALUE` override in place; VALUE is read as a YAML scalar (3, true, [1, 2]).
    A malformed override raises `error` (the document's own error class); `origins`, if given,
    records that the key is this `--set`'s."""
    label = flag_text("--set", override)
    key, sep, raw = override.partition("=")
    if not sep or not key:
        raise error(f"{label}: expected KEY=VALUE, e.g. source.time.max=5")
    try:
        value = load_yaml(raw)
    except yaml.YAMLError as err:
        problem = getattr(err, "problem", None)
        raise error(f"{label}: the value is not valid YAML" + (f": {problem}" if problem else "")) from None
    set_key(document, key, value, label, error)
    if origins is not None:
        origins.record(key, label)


def set_key(
    document: dict[str, Any], key: str, value: Any, origin: str, error: type[DocumentError] = DocumentError
) -> None:
    """Set the dotted `key` (`source.time.max`, `source.programs.0.generate`) to `value` in place,
    creating mappings on the way; `origin` names the setting in the `error` raised."""
    parts = key.split(".")
    node: Any = document
    for depth, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            node = node[_list_index(node, part, dotted_path(parts[: depth + 1]), origin, error)]
        elif isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            raise error(f"{origin}: {dotted_path(parts[:depth])} is not a mapping")
        if node is None:
            raise error(f"{origin}: {dotted_path(parts[: depth + 1])} is empty")
    last = parts[-1]
    if isinstance(node, list):
        node[_list_index(node, last, dotted_path(parts), origin, error)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise error(f"{origin}: {dotted_path(parts[:-1])} is not a mapping")


def _list_index(node: list, part: str, where: str, origin: str, error: type[DocumentError]) -> int:
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not _INDEX.fullmatch(part) or int(part) >= len(node):
        raise error(f"{origin}: {where}: expected a list index below {len(node)}")
    return int(part)


# The keys whose presence chooses a variant (see variant_by_presence): as tags in pydantic's
# error paths, they are dropped like the values of `kind`.
_PRESENCE_TAGS: set[str] = set()
# The types of the errors that key_error and variant_by_presence make.
KEY_ERROR = "key_error"
NO_VARIANT = "no_variant"


def variant_by_presence(keys: Sequence[str], message: str) -> Discriminator:
    """A discriminator for a union whose variant is chosen by which of `keys` a mapping gives:
    the first of them present (not null) names the variant (`Tag(key)`); none of them is the
    one-line error `message`."""
    _PRESENCE_TAGS.update(keys)

    def chosen(value: Any) -> str | None:
        get = value.get if isinstance(value, dict) else lambda key: getattr(value, key, None)
        return next((key for key in keys if get(key) is not None), None)

    # For the JSON Schema (synthgen.shipped.json_schema), which says the same in its own terms.
    chosen.presence_keys = tuple(keys)  # type: ignore[attr-defined]
    return Discriminator(chosen, custom_error_type=NO_VARIANT, custom_error_message=message)


def key_error(key: str, message: str) -> PydanticCustomError:
    """An error about the sibling `key`, raised by a model validator: its path ends in `key`
    (a model validator's own path is the mapping's)."""
    return PydanticCustomError(KEY_ERROR, "{message}", {"key": key, "message": message})


def format_validation_error(
    err: ValidationError,
    document: Any = None,
    tags: Mapping[str, Iterable[str]] | None = None,
    origins: Origins | None = None,
) -> str:
    """Turn pydantic's report into `path: message` items, the first few joined on one line.

    Paths are the ones the user wrote: pydantic puts a tagged union's tag (`source.shader.time`)
    into the path, and that entry is dropped by following the path through `document`. An
    unknown key in a variant says which variant (`unknown key for model spectrum`). `tags` names
    the key of every tagged union of the document and its values (`{"kind": [...]}`): the tags to
    drop, and the values to list when one is missing.

    With `origins`, each item starts with the setting that gave its key (Origins.blame): the
    document's name, or the flag (`--arch: unknown architecture ...`); items of one origin in a
    row share it (`train.yaml: epochs: ...; seed: ...; --arch: ...`).
    """
    items: list[tuple[str | None, str]] = []
    for error in err.errors():
        loc = [str(part) for part in error["loc"]]
        if error["type"] == KEY_ERROR:
            loc.append(error["ctx"]["key"])
        loc, variant = _written_path(loc, document, (tags or {}).keys())
        # Shorthand validators ("function-before[...]") add non-field entries.
        loc = [part for part in loc if not part.startswith(("function-", "literal["))]
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append(error["ctx"]["discriminator"].strip("'"))
        message = _message(error, tags or {})
        if error["type"] == "extra_forbidden":
            message += f" {variant}" if variant else ""
            message += _did_you_mean(loc[-1] if loc else "", _field_names())
        if origins is None:
            items.append((None, f"{dotted_path(loc) or '(top level)'}: {message}"))
        else:
            label, shown = origins.blame(loc)
            items.append((label, f"{shown}: {message}" if shown else message))
    parts: list[str] = []
    for n, (label, text) in enumerate(items[:3]):
        parts.append(text if label is None or (n and items[n - 1][0] == label) else f"{label}: {text}")
    shown = "; ".join(parts)
    return shown + (f" (and {len(items) - 3} more)" if len(items) > 3 else "")


def _written_path(loc: list[str], document: Any, tag_keys: Iterable[str]) -> tuple[list[str], str | None]:
    """`loc` without the tags of tagged unions, and the variant that the last entry's mapping was
    read as (`for model spectrum`; `` beside `checkpoint` `` for a variant chosen by a key's
    presence), None when it was not a variant.

    A tag is an entry of `loc` that equals the value of one of that mapping's `tag_keys` (its
    `kind`, `model` or `name`), or the name of a key whose presence chose the variant. A mapping
    may be read through nested unions (`kind`, then `model`), so tags may follow one another;
    each key serves as a tag once.
    """
    tag_keys = tuple(tag_keys)
    path: list[str] = []
    node = document
    used: set[str] = set()  # the keys of this mapping that served as tags
    variant: str | None = None
    for depth, part in enumerate(loc):
        follows = depth + 1 < len(loc)
        if isinstance(node, dict):
            by_value = next((key for key in tag_keys if key not in used and node.get(key) == part), None)
            # A key whose presence chose the variant has a scalar value: a part that follows it
            # is below the variant, not below the key.
            by_presence = (
                part in _PRESENCE_TAGS
                and part not in used
                and follows
                and part in node
                and not isinstance(node[part], dict | list)
            )
            if by_value is not None or by_presence:
                used.add(by_value or part)
                variant = f"for {by_value} {part}" if by_value else f"beside `{part}`"
                continue
        path.append(part)
        if follows:
            used, variant = set(), None
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and _INDEX.fullmatch(part) and int(part) < len(node):
            node = node[int(part)]
        else:
            node = None
    return path, variant


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean `views`?)` for a misspelt key or name, or nothing when none is close."""
    close = difflib.get_close_matches(word, [c for c in candidates if c != word], n=1, cutoff=0.75)
    return f" (did you mean `{close[0]}`?)" if close else ""


# Public: synthgen.shipped names the close shipped documents with it too.
did_you_mean = _did_you_mean


def _field_names() -> set[str]:
    """The keys of every document section (the fields of every StrictModel): what a misspelt key
    is compared with. Read at the time of the error, when every section in use is imported."""
    return {name for model in _sections() for name in model.model_fields}


# The name a recipe and a study share (and a corpus's folder takes).
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# What each `pattern=` of the documents means, in words: pydantic would show the regex.
PATTERN_WORDS = {NAME_PATTERN: "must be letters, digits, '.', '_' or '-', starting with a letter or digit"}

# pydantic's error types in the documents' own words (pydantic says `Input should be a valid
# dictionary or instance of TimeRange`); `{name}` is the error's context value of that name. Types
# that need more than a template (mappings, choices, patterns) are worded in _message.
WORDING: dict[str, str] = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "string_too_long": "must be at most {max_length} characters long",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "multiple_of": "must be a multiple of {multiple_of}",
    "none_required": "must be null",
    "bytes_type": "must be text",
    "callable_type": "must be a function",
    "invalid_key": "a key must be text",
}
_MAPPING_TYPES = ("dict_type", "model_type", "model_attributes_type", "dataclass_type")
_CHOICE_TYPES = ("literal_error", "enum")
# Whatever wording pydantic has that the table lacks, its phrasing at least is the documents'.
_PYDANTIC_PHRASES = (
    (re.compile(r"\b[A-Z]\w* should (be|have)\b"), r"must \1"),
    (re.compile(r",? or (an )?instance of \w+"), ""),
    (re.compile(r"should match pattern '[^']*'"), "has characters that are not allowed here"),
)


def _message(error: dict[str, Any], tags: Mapping[str, Iterable[str]]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in ("extra_forbidden", "missing"):
        return WORDING[kind]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = ctx["discriminator"].strip("'")
        if "expected_tags" in ctx:
            known = [tag.strip("'") for tag in ctx["expected_tags"].split(", ")]
        else:
            known = list(tags.get(key, ()))
        if kind == "union_tag_invalid":
            tag = str(ctx["tag"])
            return f"unknown {key} {tag!r}{_did_you_mean(tag, known)}; known {key}s: {', '.join(sorted(known))}"
        return f"missing `{key}`" + (f" (one of {', '.join(sorted(known))})" if known else "")
    message = error["msg"]
    if kind in (KEY_ERROR, NO_VARIANT):
        return _one_line(message)
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind in WORDING:
        message = WORDING[kind].format(**ctx)
    elif kind in _MAPPING_TYPES:
        example = _example(ctx.get("class_name"))
        message = "must be a mapping" + (f", e.g. {example}" if example else " of keys to values")
    elif kind in _CHOICE_TYPES:
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", ""))) or [str(ctx.get("expected", ""))]
        got = error.get("input")
        close = _did_you_mean(got, choices) if isinstance(got, str) else ""
        return f"must be {_alternatives(choices)} (got {_shown(got)}){close}"
    elif kind == "string_pattern_mismatch":
        message = PATTERN_WORDS.get(ctx.get("pattern", ""), "has characters that are not allowed here")
    elif kind in ("string_too_short", "too_short", "too_long"):
        message = _length_words(kind, ctx)
    else:
        for phrase, words in _PYDANTIC_PHRASES:
            message = phrase.sub(words, message)
    if kind not in ("value_error", "assertion_error") and "input" in error:
        message += f" (got {_shown(error['input'])})"
    return _one_line(message)


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _alternatives(choices: Sequence[str]) -> str:
    """`jpg` for one choice, `one of jpg, png or webp` for more."""
    if len(choices) == 1:
        return choices[0]
    return f"one of {', '.join(choices[:-1])} or {choices[-1]}"


def _length_words(kind: str, ctx: Mapping[str, Any]) -> str:
    if kind == "string_too_short":
        least = int(ctx.get("min_length", 1))
        return "must not be empty" if least == 1 else f"must be at least {least} characters long"
    # Lists and tuples; a tuple of fixed length (an image size) is a list of that many items.
    least, most = ctx.get("min_length"), ctx.get("max_length")
    if kind == "too_short":
        return f"must hold at least {_items(least)}" if least else "must not be empty"
    return f"must hold at most {_items(most)}"


def _items(n: Any) -> str:
    return f"{n} item" if n == 1 else f"{n} items"


def _example(class_name: Any) -> str | None:
    """`{min: 0.1, max: 10.0}` for the section named `class_name`: its first keys with their
    defaults (`...` for a required one), or the example its model declares
    (`json_schema_extra={"examples": [...]}`); None for a name no section has."""
    found = [m for m in _sections() if m.__name__ == class_name]
    if len(found) != 1:
        return None
    model = found[0]
    extra = model.model_config.get("json_schema_extra")
    if isinstance(extra, dict) and extra.get("examples"):
        return _flow(extra["examples"][0])
    shown = []
    for name, field in list(model.model_fields.items())[:3]:
        value = field.get_default(call_default_factory=True) if not field.is_required() else ...
        shown.append(f"{name}: {_flow(value)}")
    return "{" + ", ".join(shown) + "}" if shown else None


def _flow(value: Any) -> str:
    """A value as YAML's flow style writes it, briefly (a section's default as `{...}`)."""
    if value is ...:
        return "..."
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    return "{...}"


def _sections() -> list[type[StrictModel]]:
    """Every document section (every StrictModel) imported so far."""
    found: list[type[StrictModel]] = []
    pending = list(StrictModel.__subclasses__())
    while pending:
        model = pending.pop()
        found.append(model)
        pending.extend(model.__subclasses__())
    return found


def _one_line(text: str) -> str:
    return " ".join(text.split())
