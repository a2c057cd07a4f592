"""`synthgen diffusion ...`: a tiny local pipeline for demos, and a look at a recipe's prompts.

A command of the CLI layer (it reads recipes), registered on the group by synthgen/cli.py.

Light at import (click only): torch, diffusers and transformers load inside the commands.
"""

from __future__ import annotations

import click

from synthgen.cli_options import overrides_option, renamed_option


@click.group()
def diffusion() -> None:
    """Text-to-image pipelines (diffusers): a tiny one to try things out, a recipe's prompts.

    \b
    Example:
      synthgen render diffusion-demo --out out/diffusion-demo   # model: synthgen:tiny-sd
      synthgen diffusion make-tiny out/tiny-sd                  # the same pipeline, in a folder
    """


@diffusion.command("make-tiny")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the random weights.")
def make_tiny(folder: str, seed: int) -> None:
    """Write a tiny Stable Diffusion pipeline (random weights, built locally) into FOLDER.

    It downloads nothing, renders coloured noise in seconds on a CPU, and loads like any
    diffusers pipeline, so a recipe can point `model:` at it to try the whole path. A recipe
    that says `model: synthgen:tiny-sd` needs no folder: the same pipeline (seed 0) is built
    into synthgen's cache the first time it is rendered.

    \b
    Example:
      synthgen diffusion make-tiny out/tiny-sd
    """
    from synthgen.sources.diffusion.tiny import make_tiny_pipeline

    path = make_tiny_pipeline(folder, seed)
    size = sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
    click.echo(f"wrote a tiny pipeline ({size / 1024:.0f} KiB, seed {seed}) to {path}")


@diffusion.command("prompts")
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--count", type=click.IntRange(min=1), default=10, show_default=True, help="Prompts to print.")
@renamed_option("--n", "--count", "count", type=click.IntRange(min=1))
@overrides_option
def prompts(recipe: str, count: int, overrides: tuple[str, ...]) -> None:
    """Read RECIPE's prompts (its file, or classes x templates) and print the first ones. RECIPE is
    a file or a shipped recipe's name.

    `synthgen validate` checks the recipe's keys only; this reads the prompts as a render would.

    \b
    Example:
      synthgen diffusion prompts diffusion-demo --count 5
    """
    from synthgen.errors import RecipeError
    from synthgen.recipe import load_recipe
    from synthgen.sources.diffusion.prompts import load_prompts

    loaded = load_recipe(recipe, overrides)
    if loaded.source.kind != "diffusion":
        raise RecipeError(f"{recipe}: source.kind is {loaded.source.kind!r}, not 'diffusion'")
    table = load_prompts(loaded.source.prompts)  # type: ignore[union-attr]
    for index in range(min(count, len(table))):
        prompt = table[index]
        label = "" if prompt.cls is None else f"  [cls {prompt.cls}]"
        click.echo(f"{index:>8}  {prompt.text}{label}")
    repeats = loaded.count / len(table)
    click.echo(
        f"{len(table)} prompts; {loaded.count} samples take prompt i mod {len(table)} ({repeats:.2f} per prompt)"
    )
