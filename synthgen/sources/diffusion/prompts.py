"""The prompts of a diffusion recipe: read from a file, or class names put into templates.

Sample i takes prompt i mod N. A corpus larger than its prompt list goes through the list again,
with new seeds (a sample's seeds come from its index), so repeated prompts give new images: 1,000
class prompts and `count: 100000` make 100 samples per class.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthgen.errors import SourceError
from synthgen.sources.diffusion.config import PromptsConfig


@dataclass(frozen=True)
class Prompt:
    """Prompt `index` of the list: its text, and its class where the prompts come from classes."""

    index: int
    text: str
    cls: int | None = None
    class_name: str | None = None
    template: str | None = None

    def meta(self) -> dict[str, Any]:
        """What the sample's json records about its prompt."""
        meta: dict[str, Any] = {"prompt": self.text, "prompt_index": self.index}
        if self.cls is not None:
            meta.update({"class_name": self.class_name, "template": self.template})
        return meta


class FilePrompts:
    """Prompts read from a file, in file order."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: int) -> Prompt:
        return Prompt(index, self.texts[index])


class ClassPrompts:
    """Every class name in every template: prompt p is class p mod C in template p div C.

    Classes vary fastest, so any C consecutive samples cover every class once (balanced classes
    at any `count`), and the templates come round in turn.
    """

    def __init__(self, classes: list[str], templates: list[str]) -> None:
        self.classes = classes
        self.templates = templates

    def __len__(self) -> int:
        return len(self.classes) * len(self.templates)

    def __getitem__(self, index: int) -> Prompt:
        cls, template = index % len(self.classes), index // len(self.classes)
        name, text = self.classes[cls], self.templates[template]
        return Prompt(index, text.replace("{}", name), cls, name, text)


Prompts = FilePrompts | ClassPrompts


def load_prompts(config: PromptsConfig) -> Prompts:
    """The prompt list a recipe's `prompts` section describes; SourceError if it cannot be read."""
    if config.file is not None:
        texts = _read("source.prompts.file", config.file, lambda: read_prompt_file(config.file, config.column))
        if not texts:
            raise SourceError(f"source.prompts.file: {config.file} holds no prompts")
        return FilePrompts(texts)
    classes = config.classes
    if isinstance(classes, str):
        path = classes
        classes = _read("source.prompts.classes", path, lambda: _non_blank(_lines(path)))
        if not classes:
            raise SourceError(f"source.prompts.classes: {path} holds no class names")
    return ClassPrompts(list(classes), list(config.templates or ()))


def read_prompt_file(path: str, column: str | None = None) -> list[str]:
    """The prompts of a .txt, .jsonl, .csv, .tsv or .parquet file; blank entries are skipped."""
    suffix = Path(path).suffix.lower()
    if suffix == ".txt":
        return _non_blank(_lines(path))
    if column is None:
        raise SourceError(f"{path}: name the prompt column (`column:`)")
    if suffix == ".jsonl":
        return _non_blank(_jsonl_column(path, column))
    if suffix in (".csv", ".tsv"):
        return _non_blank(_csv_column(path, column, "\t" if suffix == ".tsv" else ","))
    if suffix == ".parquet":
        return _non_blank(_parquet_column(path, column))
    raise SourceError(f"{path}: expected a .txt, .jsonl, .csv, .tsv or .parquet file")


def _read(field: str, path: str, read: Any) -> list[str]:
    """Run `read()`, turning file errors into one line that names the recipe field."""
    try:
        return read()
    except FileNotFoundError:
        raise SourceError(f"{field}: no such file: {path}") from None
    except SourceError as err:
        raise SourceError(f"{field}: {err}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise SourceError(f"{field}: cannot read {path}: {err}") from None


def _non_blank(values: Iterator[Any] | list[Any]) -> list[str]:
    return [value.strip() for value in values if value is not None and value.strip()]


def _lines(path: str) -> list[str]:
    return Path(path).read_text(encoding="utf-8").splitlines()


def _jsonl_column(path: str, column: str) -> Iterator[Any]:
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise SourceError(f"{path}:{number}: not valid JSON") from None
            if not isinstance(row, dict) or column not in row:
                found = ", ".join(row) if isinstance(row, dict) else type(row).__name__
                raise SourceError(f"{path}:{number}: no {column!r} key (found: {found})")
            yield _text(row[column], f"{path}:{number}")


def _csv_column(path: str, column: str, delimiter: str) -> Iterator[Any]:
    with open(path, encoding="utf-8", newline="") as rows:
        reader = csv.DictReader(rows, delimiter=delimiter)
        if column not in (reader.fieldnames or []):
            raise SourceError(f"{path}: no column {column!r} (columns: {', '.join(reader.fieldnames or [])})")
        for row in reader:
            yield row[column]


def _parquet_column(path: str, column: str) -> list[Any]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        pq = None
    if pq is not None:
        names = pq.read_schema(path).names
        if column not in names:
            raise SourceError(f"{path}: no column {column!r} (columns: {', '.join(names)})")
        values = pq.read_table(path, columns=[column]).column(column).to_pylist()
    else:
        try:
            import pandas as pd

            frame = pd.read_parquet(path)
        except ImportError:
            raise SourceError(f"{path}: reading .parquet files needs pyarrow (pip install pyarrow)") from None
        if column not in frame.columns:
            raise SourceError(f"{path}: no column {column!r} (columns: {', '.join(map(str, frame.columns))})")
        values = frame[column].astype(object).where(frame[column].notna(), None).tolist()
    return [_text(value, f"{path} row {row}") for row, value in enumerate(values)]


def _text(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise SourceError(f"{where}: the prompt is a {type(value).__name__}, expected text")
    return value
