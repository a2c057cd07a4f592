"""`synthgen recipes list|show|copy` and `synthgen schema`: the documents shipped with synthgen,
and the JSON Schemas of all documents.

Registered on the `synthgen` group by synthgen/cli.py; light at import (click only).
"""

from __future__ import annotations

from typing import Any

import click

# `synthgen schema NAME`: the document model of each name (imported when asked for).
SCHEMA_TITLES = {"recipe": "synthgen recipe", "train": "synthgen training config", "experiment": "synthgen experiment"}
KIND_CHOICE = click.Choice(["recipe", "config", "experiment"])
# The description column's width in `recipes list`: a table of one line per document.
_DESCRIPTION_WIDTH = 72


@click.group()
def recipes() -> None:
    """The recipes, training configs and experiment files shipped with synthgen.

    Every command that reads one takes its name as well as a path:
    `synthgen render demo-shaders --out out/demo`, `synthgen train --config small-cpu ...`,
    `synthgen experiment experiments/families-quick`.

    \b
    Example:
      synthgen recipes list --kind recipe
      synthgen recipes show demo-shaders
      synthgen recipes copy demo-shaders my-shaders.yaml
    """


@recipes.command("list")
@click.option("--kind", type=KIND_CHOICE, help="Only documents of this kind [default: all].")
def recipes_list(kind: str | None) -> None:
    """A table of the shipped documents: name, kind, family, count, size and what each is.

    family: a recipe's source kind, a config's method and network, an experiment's corpora;
    count and size: samples and image size (of each corpus, for an experiment; the crop, for a
    config).

    \b
    Example:
      synthgen recipes list --kind experiment
    """
    from synthgen.shipped import list_shipped

    rows = [("NAME", "KIND", "FAMILY", "COUNT", "SIZE", "DESCRIPTION")]
    for doc in list_shipped(kind):  # type: ignore[arg-type]
        description = doc.description
        if len(description) > _DESCRIPTION_WIDTH:
            description = description[: _DESCRIPTION_WIDTH - 3].rstrip() + "..."
        count = "" if doc.count is None else f"{doc.count:,}"
        rows.append((doc.name, doc.kind, doc.family or "", count, doc.size or "", description))
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    for row in rows:
        cells = [
            cell.rjust(width) if column == 3 else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row[:5], widths, strict=True))
        ]
        click.echo("  ".join([*cells, row[5]]).rstrip())


@recipes.command("show")
@click.argument("name")
@click.option("--kind", type=KIND_CHOICE, help="Where NAME names documents of several kinds.")
def recipes_show(name: str, kind: str | None) -> None:
    """Print the shipped document NAME as it is (comments and all).

    \b
    Example:
      synthgen recipes show experiments/families-quick
    """
    from synthgen.shipped import find_any

    _, path = find_any(name, kind)  # type: ignore[arg-type]
    click.echo(path.read_text(encoding="utf-8"), nl=False)


@recipes.command("copy")
@click.argument("name")
@click.argument("dest", required=False, type=click.Path(dir_okay=True))
@click.option("--kind", type=KIND_CHOICE, help="Where NAME names documents of several kinds.")
@click.option("--force", is_flag=True, help="Overwrite DEST if it exists.")
def recipes_copy(name: str, dest: str | None, kind: str | None, force: bool) -> None:
    """Write an editable copy of the shipped document NAME to DEST (a file, or a folder; default:
    NAME.yaml here). Its references to other shipped documents are rewritten so that the copy
    works where it is; placeholders to replace are listed.

    \b
    Example:
      synthgen recipes copy demo-shaders my-shaders.yaml && synthgen render my-shaders.yaml --out out/mine
    """
    from synthgen.shipped import copy_shipped

    result = copy_shipped(name, dest, kind, force=force)  # type: ignore[arg-type]
    click.echo(f"wrote {result.path}")
    for where, old, new in result.rewritten:
        click.echo(f"  {where}: {old} -> {new}")
    for note in result.notes:
        click.echo(f"  note: {note}")


@click.command()
@click.argument("document", type=click.Choice(list(SCHEMA_TITLES)))
def schema(document: str) -> None:
    """Print the JSON Schema of a DOCUMENT (recipe, train config, experiment), for editors.

    The shipped documents name theirs on their first line, for the YAML language server
    (VS Code's YAML extension, and others): `# yaml-language-server: $schema=...`.

    \b
    Example:
      synthgen schema recipe > recipe.schema.json
    """
    from synthgen.shipped.json_schema import document_json_schema, schema_text

    click.echo(schema_text(document_json_schema(document_model(document), SCHEMA_TITLES[document])), nl=False)


def document_model(document: str) -> Any:
    """The pydantic model of the `document` that `synthgen schema` names."""
    if document == "recipe":
        from synthgen.recipe import Recipe

        return Recipe
    if document == "train":
        from synthgen.train.config import TrainConfig

        return TrainConfig
    from synthgen.experiment.config import Experiment

    return Experiment
