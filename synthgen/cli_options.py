"""Options and option parsing shared by the `synthgen` commands."""

from __future__ import annotations

from typing import Any

import click

overrides_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a recipe key, e.g. --set source.time.max=5 (repeatable; VALUE is YAML).",
)
count_option = click.option("--count", type=click.IntRange(min=1), help="Override the recipe's sample count.")
storage_option = click.option(
    "--storage-option",
    "storage_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An fsspec storage option for a remote corpus, e.g. endpoint_url=http://127.0.0.1:9000 (repeatable).",
)


def parse_storage_options(items: tuple[str, ...]) -> dict[str, Any]:
    """`KEY=VALUE` pairs as fsspec options; VALUE is read as YAML (numbers, true/false, mappings),
    safely, and kept as the string it is when it is not YAML."""
    import yaml

    from synthgen.schema import load_yaml

    options: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--storage-option")
        try:
            options[key] = load_yaml(raw)
        except yaml.YAMLError:
            options[key] = raw
    return options
