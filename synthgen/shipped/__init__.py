"""The recipes, training configs and experiment files that come with synthgen, and their JSON Schemas.

They live in this package (so a pip-installed synthgen has them) and every command that reads a
document takes either a path or a shipped name:

    synthgen render demo-shaders --out out/demo            # recipes/demo-shaders.yaml here
    synthgen train --config small-cpu ...                  # configs/small-cpu.yaml
    synthgen experiment experiments/families-quick         # recipes/experiments/families-quick.yaml

A value that is an existing path is that path; only otherwise is it looked up here
(`resolve_document`). Inside an experiment file, `recipe:` and `config:` take the same values,
paths relative to the experiment's folder first (`RecipeReference`, `ConfigReference`).
`synthgen recipes list|show|copy` lists, prints and copies them (`list_shipped`, `copy_shipped`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import AfterValidator, ValidationInfo

from synthgen.errors import DocumentError, RecipeError
from synthgen.schema import did_you_mean, document_path, load_yaml

SHIPPED_ROOT = Path(__file__).parent
SCHEMA_DIR = SHIPPED_ROOT / "schemas"

DocumentKind = Literal["recipe", "config", "experiment"]
KINDS: tuple[str, ...] = get_args(DocumentKind)
# Where each kind lives, and the prefix of its names (an experiment is `experiments/NAME`, as its
# folder says, so that no experiment's name can shadow a recipe's).
_FOLDERS: dict[str, str] = {"recipe": "recipes", "config": "configs", "experiment": "recipes/experiments"}
_PREFIXES: dict[str, str] = {"recipe": "", "config": "", "experiment": "experiments/"}
# The JSON Schema of each kind (`synthgen schema NAME`): a config is a training config.
SCHEMA_NAMES: dict[str, str] = {"recipe": "recipe", "config": "train", "experiment": "experiment"}
# The first line of every shipped document: editors with the YAML language server check the
# document against its schema as it is typed. A comment, so no recipe's hash depends on it.
MODELINE = "# yaml-language-server: $schema="


@dataclass(frozen=True)
class ShippedDocument:
    """One shipped document, with what `synthgen recipes list` shows of it.

    `family`: a recipe's source kind, a config's method and network, an experiment's number of
    corpora; `count` and `size`: the samples and image size of a recipe (of each corpus, for an
    experiment; `size` is the augmented crop for a config); None where the document does not say.
    """

    name: str
    kind: DocumentKind
    path: Path
    description: str = ""
    family: str | None = None
    count: int | None = None
    size: str | None = None


def shipped_names(kind: DocumentKind) -> dict[str, Path]:
    """{name: path} of the shipped documents of `kind`, in name order (no file is read)."""
    folder = SHIPPED_ROOT / _FOLDERS[kind]
    return {f"{_PREFIXES[kind]}{path.stem}": path for path in sorted(folder.glob("*.yaml"))}


def list_shipped(kind: DocumentKind | None = None) -> list[ShippedDocument]:
    """The shipped documents of `kind` (None: every kind), recipes first, each kind in name order."""
    return [
        _describe(name, each, path)
        for each in (KINDS if kind is None else (_check_kind(kind),))
        for name, path in shipped_names(each).items()  # type: ignore[arg-type]
    ]


def find_shipped(value: str, kind: DocumentKind) -> Path | None:
    """The shipped document of `kind` that `value` names, None when none does.

    Accepted spellings: `demo-shaders`, `demo-shaders.yaml`, `recipes/demo-shaders.yaml` (the
    repository path the older docs give); `experiments/families-quick` or `families-quick` for
    an experiment; `small-cpu` or `configs/small-cpu.yaml` for a config.
    """
    name = value.strip()
    for suffix in (".yaml", ".yml"):
        name = name.removesuffix(suffix)
    name = name.removeprefix("configs/" if kind == "config" else "recipes/")
    if kind == "experiment" and not name.startswith(_PREFIXES["experiment"]):
        name = _PREFIXES["experiment"] + name
    return shipped_names(kind).get(name)


def shipped_path(name: str, kind: DocumentKind) -> Path:
    """The file of the shipped document `name` of `kind`; a DocumentError naming the close ones if none."""
    path = find_shipped(name, _check_kind(kind))
    if path is None:
        raise _error(kind)(f"no shipped {kind} {name!r}{_hint(name, kind)}")
    return path


def resolve_document(value: str | Path, kind: DocumentKind) -> Path:
    """What a command's RECIPE (CONFIG, FILE) argument names: an existing path, or one that can
    only be a path, is that path; else the shipped document of that name; else one line that
    says neither exists."""
    path = Path(value).expanduser()
    # An existing file, or a value only a path can be (absolute, ./ or ../): its reader says
    # "file not found" if it is missing; anything else may be a shipped document's name.
    if path.exists() or path.is_absolute() or str(value).startswith(("./", "../", ".\\", "..\\")):
        return path
    shipped = find_shipped(str(value), _check_kind(kind))
    if shipped is not None:
        return shipped
    raise _error(kind)(f"{kind} {str(value)!r}: no such file, and no shipped {kind} of that name{_hint(value, kind)}")


def _reference(kind: DocumentKind) -> AfterValidator:
    """A document's reference to a `kind` document: resolved like `resolve_document`, but a path
    is relative to the referring document's folder (document_path)."""

    def resolve(value: str, info: ValidationInfo) -> str:
        path = document_path(value, info)
        if Path(path).exists():
            return path
        shipped = find_shipped(value, kind)
        if shipped is not None:
            return str(shipped)
        raise ValueError(f"no such file or directory: {path}, and no shipped {kind} of that name{_hint(value, kind)}")

    return AfterValidator(resolve)


# `recipe:` and `config:` of an experiment: a path (relative to the experiment's folder) or a
# shipped name; resolved to the absolute path of the file.
RecipeReference = Annotated[str, _reference("recipe")]
ConfigReference = Annotated[str, _reference("config")]


def _hint(value: str | Path, kind: DocumentKind) -> str:
    names = shipped_names(kind)
    word = Path(str(value)).name.removesuffix(".yaml").removesuffix(".yml")
    close = did_you_mean(_PREFIXES[kind] + word if kind == "experiment" else word, names)
    return f"{close}; `synthgen recipes list --kind {kind}` lists them"


def _error(kind: str) -> type[DocumentError]:
    return RecipeError if kind == "recipe" else DocumentError


def _check_kind(kind: str) -> DocumentKind:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return kind  # type: ignore[return-value]


def find_any(name: str, kind: DocumentKind | None = None) -> tuple[DocumentKind, Path]:
    """The shipped document `name` of any kind (or of `kind`); an error if none, or if it names
    documents of several kinds and `kind` does not choose."""
    kinds = KINDS if kind is None else (_check_kind(kind),)
    found = [(each, path) for each in kinds if (path := find_shipped(name, each)) is not None]  # type: ignore[arg-type]
    if len(found) > 1:
        raise DocumentError(f"{name!r} names a shipped {' and a '.join(k for k, _ in found)}: choose with --kind")
    if not found:
        candidates = [n for each in kinds for n in shipped_names(each)]  # type: ignore[arg-type]
        raise DocumentError(
            f"no shipped document {name!r}{did_you_mean(name.removesuffix('.yaml'), candidates)}; "
            "`synthgen recipes list` lists them"
        )
    return found[0]  # type: ignore[return-value]


# --- what `recipes list` shows ---------------------------------------------------------------

# The end of a description's first sentence: `.`, `?` or `;` before a space, not after an
# abbreviation (`et al.`, `e.g.`).
_SENTENCE_END = re.compile(r"(?<!\bal\.)(?<!e\.g\.)(?<!i\.e\.)(?<=[.?;])\s")


def _describe(name: str, kind: DocumentKind, path: Path) -> ShippedDocument:
    text = path.read_text(encoding="utf-8")
    try:
        document = load_yaml(text)
    except yaml.YAMLError:
        document = None  # listed all the same; `synthgen validate` says what is wrong with it
    document = document if isinstance(document, dict) else {}
    description = _first_sentence(text) or str(document.get("description") or document.get("name") or "")
    family, count, size = _summary(kind, document)
    return ShippedDocument(name, kind, path, description, family, count, size)


def _first_sentence(text: str) -> str:
    """The first sentence of the comment block at the top (after the modeline), on one line."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if not line.startswith(MODELINE):
            lines.append(line.lstrip("#").strip())
    joined = " ".join(line for line in lines if line)
    end = _SENTENCE_END.search(joined)
    return (joined[: end.start()] if end else joined).rstrip(".;")


def _summary(kind: DocumentKind, document: dict[str, Any]) -> tuple[str | None, int | None, str | None]:
    if kind == "recipe":
        source, image = _mapping(document.get("source")), _mapping(document.get("image"))
        return source.get("kind"), _int(document.get("count")), _size(image.get("size", 256))
    if kind == "config":
        method, model = _mapping(document.get("method")), _mapping(document.get("model"))
        family = " ".join(str(v) for v in (method.get("name", "simclr"), model.get("arch")) if v is not None)
        return family, None, _size(_mapping(document.get("augment")).get("size"))
    settings = _mapping(_mapping(document.get("render")).get("set"))
    corpora = document.get("corpora")
    family = f"{len(corpora)} corpora" if isinstance(corpora, list) else None
    size = settings.get("image.size", _mapping(settings.get("image")).get("size"))
    return family, _int(settings.get("count")), _size(size)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _size(value: Any) -> str | None:
    if _int(value) is not None:
        return str(value)
    if isinstance(value, list) and len(value) == 2 and all(_int(side) is not None for side in value):
        return f"{value[0]}x{value[1]}"
    return None


# --- `recipes copy` --------------------------------------------------------------------------


@dataclass
class CopyResult:
    """What `copy_shipped` wrote: `rewritten` [(field path, old value, new value)], and `notes`
    on the paths left as they were (read relative to the copy's folder now)."""

    path: Path
    rewritten: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# The keys of an experiment file whose values may be shipped names, and of which kind
# (RecipeReference, ConfigReference).
_NAME_KINDS: dict[str, DocumentKind] = {"recipe": "recipe", "config": "config"}


def copy_shipped(
    name: str, dest: str | Path | None = None, kind: DocumentKind | None = None, force: bool = False
) -> CopyResult:
    """Write an editable copy of the shipped document `name` to `dest` (a file, or a folder to
    put `NAME.yaml` in; default: the working directory). An existing file is kept unless `force`.

    The copy still works where it is: its relative references to other shipped documents become
    their shipped names (or absolute paths where a name is not accepted), and its modeline points
    at the installed schema. References to files that do not exist (placeholders to replace) are
    left as written and reported in `notes`: they are read relative to the copy's folder.
    """
    kind, source = find_any(name, kind)
    target = Path(dest).expanduser() if dest is not None else Path.cwd()
    if target.is_dir():
        target = target / source.name
    if target.exists() and not force:
        raise DocumentError(f"{target}: exists; choose another destination or overwrite it with --force")
    text = source.read_text(encoding="utf-8")
    result = CopyResult(target)
    edits: list[tuple[int, int, str]] = []
    for where, node in _scalars(yaml.compose(text, Loader=yaml.SafeLoader)):
        new = _relocated(node.value, where, kind, source.parent, target.parent, result)
        if new is not None:
            edits.append((node.start_mark.index, node.end_mark.index, _plain_or_quoted(new)))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    schema = SCHEMA_DIR / f"{SCHEMA_NAMES[kind]}.schema.json"
    text = re.sub(rf"\A{re.escape(MODELINE)}.*", lambda _: MODELINE + schema.as_uri(), text)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return result


def _scalars(node: yaml.Node | None, where: tuple[str, ...] = ()) -> Any:
    """(field path, node) of every string scalar under `node` (keys excluded)."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalars(value, (*where, str(key.value)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _scalars(item, (*where, str(index)))
    elif isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        yield where, node


def _relocated(
    value: str, where: tuple[str, ...], kind: str, origin: Path, folder: Path, result: CopyResult
) -> str | None:
    """The value a relative path `value` of the shipped document in `origin` takes in a copy in
    `folder`, None to keep it. Only path-like values are considered: a `/` or a suffix, no scheme."""
    if ":" in value or value in (".", "..") or Path(value).is_absolute() or not ("/" in value or Path(value).suffix):
        return None
    path = (origin / value).resolve()
    dotted = ".".join(where)
    if not path.exists():
        if (folder / value).resolve() != path:
            result.notes.append(f"{dotted}: {value} is read from {folder} now (a placeholder: replace it)")
        return None
    new = str(path)
    if kind == "experiment" and where and where[-1] in _NAME_KINDS:
        names = {shipped.resolve(): name for name, shipped in shipped_names(_NAME_KINDS[where[-1]]).items()}
        new = names.get(path, new)
    if new != value:
        result.rewritten.append((dotted, value, new))
    return new


def _plain_or_quoted(value: str) -> str:
    # Names and ordinary paths need no quotes; anything else is written as a JSON string, which
    # YAML reads as the same string.
    return value if re.fullmatch(r"[\w./~+-]+", value) and not value.startswith("-") else json.dumps(value)
