"""The `synthgen` command. Thin: parse arguments, call one library function, print the result.

Errors that synthgen raises on purpose become one line on stderr and exit status 2;
`synthgen --debug ...` shows the traceback instead. The library's log records go to stderr
(`warning: ...`); `--quiet` and `--verbose`, before or after any command, choose how many
(cli_options.py), and progress bars are drawn here from the library's callbacks (cli_progress.py).
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections import Counter
from typing import Any

import click

from synthgen import __version__
from synthgen.cli_diffusion import diffusion
from synthgen.cli_learn import eval_command, experiment, train
from synthgen.cli_options import (
    COUNT_ORIGIN,
    add_common_options,
    count_option,
    overrides_option,
    parse_permissions,
    parse_storage_options,
    permission_options,
    refused_option,
    renamed_option,
    storage_option,
)
from synthgen.cli_progress import ProgressBars, progress_bar
from synthgen.cli_shipped import recipes, schema
from synthgen.errors import SynthgenError
from synthgen.text import counted, printable

logger = logging.getLogger(__name__)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is, so that it unwinds like Ctrl-C (workers stopped,
    temporaries removed, committed shards kept)."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


def _interruption(err: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C or SIGTERM behind `err`: cleanup code that fails while an interruption unwinds
    (a buffer still exported, a folder gone read-only) must not hide it."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return current
        seen.add(id(current))
        current = current.__context__
    return None


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        previous = signal.signal(signal.SIGTERM, _raise_terminated) if _in_main_thread() else None
        try:
            return super().invoke(ctx)
        except SynthgenError as err:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {err}", err=True)
            sys.exit(2)
        except Exception as err:
            interruption = _interruption(err)
            if interruption is None or (ctx.obj and ctx.obj.get("debug")):
                raise
            _exit_interrupted(interruption)
        except KeyboardInterrupt as interruption:
            _exit_interrupted(interruption)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def _exit_interrupted(interruption: KeyboardInterrupt) -> None:
    terminated = isinstance(interruption, Terminated)
    click.echo(f"{'terminated' if terminated else 'interrupted'}: run the same command again to resume", err=True)
    sys.exit(143 if terminated else 130)


def _in_main_thread() -> bool:
    # signal.signal works in the main thread only (the CLI runs in worker threads of some tests).
    return threading.current_thread() is threading.main_thread()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="synthgen")
def cli() -> None:
    """Render synthetic image corpora from recipes into WebDataset shards.

    \b
    Example:
      synthgen recipes list
      synthgen render demo-shaders --out out/demo --workers 2
      synthgen inspect out/demo
      synthgen preview out/demo --out grid.png
    """


@cli.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--out", "dest", required=True, metavar="DEST", help="Destination folder (a path or an fsspec URL).")
@count_option
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Render processes.")
@overrides_option
@click.option(
    "--overwrite", is_flag=True, help="Delete the corpus already in DEST (synthgen's files only) and render it again."
)
@click.option(
    "--force", is_flag=True, help="Break another run's lock on DEST (a run that died; its lock would expire in 60 s)."
)
@click.option(
    "--trust-sizes", is_flag=True, help="Resume without re-reading kept shards for their sha256 (sizes only)."
)
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: a process pool on this machine; ray: one task per shard on a Ray cluster.",
)
@click.option("--address", help="Ray cluster address (default: RAY_ADDRESS, or a local Ray).")
@click.option(
    "--gpus-per-task",
    type=click.FloatRange(min=0),
    help="Ray: GPUs per shard task (default: 1 if the cluster has GPUs).",
)
@storage_option
@permission_options
def render(
    recipe: str,
    dest: str,
    count: int | None,
    workers: int,
    overrides: tuple[str, ...],
    overwrite: bool,
    force: bool,
    trust_sizes: bool,
    executor: str,
    address: str | None,
    gpus_per_task: float | None,
    storage_options: tuple[str, ...],
    allow_code: tuple[str, ...],
    trust_pickle: tuple[str, ...],
) -> None:
    """Render RECIPE (a file, or the name of a shipped recipe: `synthgen recipes list`) into a
    corpus of shards in DEST (a folder or a bucket URL); an interrupted render resumes. A recipe
    runs code (a gan `generator`, a pickle checkpoint) only where --allow-code or --trust-pickle
    allows it.

    \b
    Examples:
      synthgen render demo-shaders --out out/demo --workers 2 --set image.size=128
      synthgen render demo-shaders --out s3://bucket/demo --storage-option endpoint_url=http://127.0.0.1:9000
      synthgen render shaders-bundled --out s3://bucket/bundled --executor ray --address auto
      synthgen render my-biggan.yaml --out out/biggan --allow-code mygens
    """
    from synthgen.permissions import check_code_allowed
    from synthgen.recipe import load_recipe
    from synthgen.render import render_corpus

    permissions = parse_permissions(allow_code, trust_pickle)
    loaded = load_recipe(recipe, overrides, count, origins=COUNT_ORIGIN)
    check_code_allowed(loaded, permissions, origin=recipe)  # render_corpus checks too; this names the file

    def report(subject: str, message: str) -> None:
        # Subjects and messages come from programs and checkpoints: escaped for the terminal.
        logger.warning("%s: %s", printable(subject), printable(message))

    if executor == "ray":
        from synthgen.render.executors import RayExecutor

        chosen = RayExecutor(address=address, gpus_per_task=gpus_per_task)
    else:
        from synthgen.render.executors import LocalExecutor

        chosen = LocalExecutor(workers)
    with ProgressBars() as bars:
        summary = render_corpus(
            loaded,
            dest,
            executor=chosen,
            overwrite=overwrite,
            force=force,
            trust_sizes=trust_sizes,
            storage_options=parse_storage_options(storage_options),
            on_progress=bars,
            on_failure_subject=report,
            permissions=permissions,
        )
    click.echo(summary.line())


@cli.command("import")
@click.argument("spec")
@click.option("--out", "dest", required=True, metavar="DEST", help="Destination folder (a path or an fsspec URL).")
@click.option(
    "--split",
    type=click.Choice(["train", "val", "all"]),
    default="train",
    show_default=True,
    help="val: the val/ or test/ folder, the t10k files, or the part eval holds out; all: train then val.",
)
@click.option("--limit", type=click.IntRange(min=1), help="Keep this many images, classes in proportion.")
@click.option("--size", type=click.IntRange(min=8), help="Resize to SIZE x SIZE [default: the dataset's own size].")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Render processes.")
@click.option("--shard-samples", type=click.IntRange(min=1), default=1000, show_default=True, help="Per shard.")
# png by default: lossless, so the real-data control holds the dataset's own pixels.
@click.option("--format", "fmt", type=click.Choice(["png", "jpg", "webp"]), default="png", show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Splits as eval does; --limit.")
@click.option("--name", help="Corpus name [default: from SPEC and the split, e.g. fashion-mnist-train].")
@click.option(
    "--license",
    metavar="ID",
    help="The data's licence for the dataset card, a Hub licence id [default: known, else unknown].",
)
@storage_option
@click.option("--overwrite", is_flag=True, help="Delete a corpus already in DEST and import again.")
def import_command(spec: str, dest: str, limit: int | None, storage_options: tuple[str, ...], **options: Any) -> None:
    """Write the labelled dataset SPEC (imagefolder:DIR, idx:DIR, wds:URL, as `eval --dataset` reads
    it) as a corpus in DEST, one image a sample with its `cls` label: the real-data control of a
    study. It renders like a recipe: an interrupted import resumes.

    \b
    Example:
      synthgen import idx:/usr/share/datasets/fashion-mnist --out out/fashion-mnist-train --size 32
    """
    from synthgen.realdata import import_dataset

    with ProgressBars() as bars:
        summary = import_dataset(
            spec, dest, limit=limit, storage_options=parse_storage_options(storage_options), on_progress=bars, **options
        )
    click.echo(summary.line())
    if limit is not None and summary.nsamples < limit:
        click.echo(f"note: --limit {limit} exceeds the {summary.nsamples} images of the split: all are taken")


@cli.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@count_option
@overrides_option
@permission_options
def validate(
    recipe: str,
    count: int | None,
    overrides: tuple[str, ...],
    allow_code: tuple[str, ...],
    trust_pickle: tuple[str, ...],
) -> None:
    """Check RECIPE (a file or a shipped recipe's name) and its inputs; print the resolved recipe
    (every default filled in) and its sha256, then what it asks that only the command line may
    allow (running code, unpickling) and whether it is allowed. A recipe that runs code not
    allowed is an error, as in `render`.

    \b
    Example:
      synthgen validate demo-shaders --set views=4
    """
    from synthgen.permissions import check_code_allowed, describe, granting
    from synthgen.recipe import load_recipe
    from synthgen.sources import source_class

    permissions = parse_permissions(allow_code, trust_pickle)
    loaded = load_recipe(recipe, overrides, count, origins=COUNT_ORIGIN)
    check_code_allowed(loaded, permissions, origin=recipe)
    with granting(permissions):
        source_class(loaded.source.kind).check(loaded)
    click.echo(json.dumps(loaded.resolved(), indent=2))
    click.echo(f"recipe sha256: {loaded.sha256}")
    for line in describe(loaded, permissions):
        click.echo(line)


@cli.command()
@click.argument("corpus")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Image file to write: .png, .jpg or .webp (its folder is made if needed).",
)
@click.option("--count", type=click.IntRange(min=1), default=64, show_default=True, help="Samples to show.")
@renamed_option("--n", "--count", "count", type=click.IntRange(min=1))
@click.option("--random", "randomly", is_flag=True, help="Show a random choice of samples (drawn with --seed).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="The draw of --random.")
@click.option(
    "--scale",
    type=click.FloatRange(min=0.01, max=64),
    help="Zoom each image by this factor, e.g. 2 for 32 px images [default: shrink to fit 128 px].",
)
@click.option("--labels/--no-labels", default=True, show_default=True, help="Index, class, program or prompt below.")
@storage_option
def preview(
    corpus: str,
    out_path: str,
    count: int,
    randomly: bool,
    seed: int,
    scale: float | None,
    labels: bool,
    storage_options: tuple[str, ...],
) -> None:
    """Write a contact sheet of CORPUS (a corpus folder or URL, a brace pattern of shards, or a
    saved stream, as train reads them): its first samples, or --random ones; a sample's views side
    by side, its index, class and program or prompt under them.

    \b
    Examples:
      synthgen preview out/demo --out grid.png --count 32
      synthgen preview out/demo --out grid.png --random --seed 1 --scale 2
      synthgen preview 'out/demo/shard-{000000..000003}.tar' --out first-shards.png
    """
    from synthgen.corpus.preview import sheet_format, write_preview

    try:
        sheet_format(out_path)  # before the corpus is read
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--out") from None

    shown = write_preview(
        corpus,
        out_path,
        count,
        scale=scale,
        randomly=randomly,
        seed=seed,
        labels=labels,
        storage_options=parse_storage_options(storage_options),
    )
    click.echo(f"wrote {out_path}: {shown} samples")


@cli.command()
@click.argument("corpus")
@click.option(
    "--count",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Samples read for image statistics and classes (0: all).",
)
@renamed_option("--samples", "--count", "count", type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (every class's count too).")
@storage_option
def inspect(corpus: str, count: int, as_json: bool, storage_options: tuple[str, ...]) -> None:
    """Report CORPUS (a corpus folder or URL, a brace pattern of shards, or a saved stream):
    counts, shards, bytes, failures by reason, image statistics, and the classes where samples
    have them.

    \b
    Example:
      synthgen inspect out/demo --count 0
    """
    from synthgen.corpus.inspect import inspect_corpus

    report = inspect_corpus(corpus, max_samples=count or None, storage_options=parse_storage_options(storage_options))
    click.echo(json.dumps(report, indent=2) if as_json else format_report(report))


@cli.command()
@click.argument("local_corpus", type=click.Path(exists=True, file_okay=False))
@click.argument("url")
@click.option("--overwrite", is_flag=True, help="Replace what another recipe left at URL instead of refusing.")
@storage_option
def push(local_corpus: str, url: str, overwrite: bool, storage_options: tuple[str, ...]) -> None:
    """Upload a finished LOCAL_CORPUS to URL: files already there and identical are skipped, the
    manifest goes last; an interrupted push resumes. Only the corpus's regular files go, each shard
    checked against the manifest (size, sha256) as it is read.

    \b
    Example:
      synthgen push out/demo s3://bucket/demo --storage-option endpoint_url=http://127.0.0.1:9000
    """
    from synthgen.corpus.push import push_corpus

    with progress_bar(unit="B", unit_scale=True, desc="push") as bar:
        summary = push_corpus(
            local_corpus,
            url,
            parse_storage_options(storage_options),
            on_file=lambda name, size: bar.update(size),
            overwrite=overwrite,
        )
    click.echo(summary.line())


@cli.command()
@click.argument("corpus")
@click.option("--decode", is_flag=True, help="Also decode every image and check its size.")
@click.option(
    "--repair", is_flag=True, help="Uncommit damaged shards so that the same render command renders them again."
)
@click.option("--all", "every", is_flag=True, help="List every problem, not one line per damaged shard.")
@storage_option
def verify(corpus: str, decode: bool, repair: bool, every: bool, storage_options: tuple[str, ...]) -> None:
    """Re-read every shard of CORPUS (a folder or URL): sha256, sizes and sample counts against the
    manifest, and every sample's key, index, fields and recipe. Exit status 0 when the corpus is
    whole, 1 when not (a line per damaged shard: its count of problems and the first; --all lists
    them all).

    \b
    Examples:
      synthgen verify s3://bucket/demo --storage-option endpoint_url=http://127.0.0.1:9000
      synthgen verify out/demo --repair && synthgen render demo-shaders --out out/demo
    """
    from synthgen.corpus.verify import mark_for_rerender, verify_corpus

    options = parse_storage_options(storage_options)
    with ProgressBars() as bars:
        report = verify_corpus(corpus, options, decode=decode, on_progress=bars)
    for line in report.lines(every):
        click.echo(line)
    if not report.ok:
        click.echo(f"{corpus}: NOT whole: {len(report.problems)} problems in {report.bad_files} files")
        if repair:
            redo = mark_for_rerender(corpus, report.problems, options)
            click.echo(f"uncommitted {len(redo)} shards: run the same render command again to render them")
        sys.exit(1)
    click.echo(f"{corpus}: whole: {report.shards} shards, {report.samples} samples verified")


@cli.group()
def shaders() -> None:
    """Shader programs: the bundled library, the generator, checking a collection.

    \b
    Example:
      synthgen shaders list --tags fractal
    """


@shaders.command("list")
@click.option(
    "--program-set",
    type=click.Choice(["library", "starter"]),
    default="library",
    show_default=True,
    help="Which bundled set (a recipe's `programs: [library]`).",
)
@refused_option("--set", "--program-set", "--set is KEY=VALUE elsewhere")
@click.option("--tags", help="Only programs with at least one of these tags (comma-separated).")
def shaders_list(program_set: str, tags: str | None) -> None:
    """Print the bundled programs with their tags (what a recipe selects with `tags:`).

    \b
    Example:
      synthgen shaders list --tags fractal,raymarch
    """
    from collections import Counter

    from synthgen.sources.shader.config import ProgramSetEntry
    from synthgen.sources.shader.programs import load_program_set

    wanted = [t for t in (tags or "").split(",") if t.strip()] or None
    programs = load_program_set([ProgramSetEntry(builtin=program_set, tags=wanted)]).programs
    width = max(len(p.id) for p in programs)
    for program in programs:
        click.echo(f"{program.id:<{width}}  {', '.join(program.tags)}")
    counts = Counter(tag for p in programs for tag in p.tags)
    click.echo(f"{len(programs)} programs; tags: " + ", ".join(f"{t} {n}" for t, n in counts.most_common()))


@shaders.command("generate")
@click.option("--count", type=click.IntRange(min=1), required=True, help="Programs to write.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="The generator's seed.")
@click.option(
    "--out", "out_dir", required=True, metavar="DIR", type=click.Path(file_okay=False), help="Folder to write into."
)
def shaders_generate(count: int, seed: int, out_dir: str) -> None:
    """Write COUNT distinct programs from the program generator as .frag files.

    The same --count and --seed always give the same files; a recipe can use the generator
    directly with `programs: [{generate: N, seed: S}]`, without files.

    \b
    Example:
      synthgen shaders generate --count 1000 --seed 0 --out programs/generated
    """
    from pathlib import Path

    from synthgen.sources.shader.generator import generate_programs

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for program in generate_programs(count, seed):
        # The code starts with its own `// name:` / `// tags:` / `// licence:` header.
        name = program.id.removeprefix("generated/").replace("/", "-")
        (folder / f"generated-{name}.frag").write_text(program.code)
    click.echo(f"wrote {count} programs (seed {seed}) to {folder}")


@shaders.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "twigl-geek", "twigl-geeker"]),
    default="auto",
    show_default=True,
    help="How to read .frag/.glsl files: Shadertoy (auto) or a TwiGL mode.",
)
@click.option("--size", type=click.IntRange(min=8, max=8192), default=128, show_default=True, help="Test render size.")
@click.option("--times", default="0.5,5.0", show_default=True, help="iTime of each test frame.")
@click.option(
    "--frame-seconds", type=click.FloatRange(min=0.01), default=5.0, show_default=True, help="Watchdog limit per frame."
)
@click.option(
    "--memory-mb",
    type=click.IntRange(min=64, max=1 << 20),
    help="Watchdog: memory a program may take in the GL process [default: 2048, as in a recipe].",
)
@click.option(
    "--max-source-bytes",
    type=click.IntRange(min=1, max=1 << 28),
    help="Watchdog: longest program compiled [default: 1048576, as in a recipe].",
)
@click.option(
    "--min-std",
    type=click.FloatRange(min=0.0),
    help="Reject: a frame whose largest per-channel pixel std (0-255) is below this is near_constant "
    "[default: 2.0, as in a recipe].",
)
@click.option(
    "--max-nan-fraction",
    type=click.FloatRange(min=0.0, max=1.0),
    help="Reject: a frame with more than this share of NaN pixels is nan [default: 0.05, as in a recipe].",
)
@click.option(
    "--good", "good_path", type=click.Path(dir_okay=False), help="Write the programs that pass as a list for a recipe."
)
def shaders_check(
    paths: tuple[str, ...],
    fmt: str,
    size: int,
    times: str,
    frame_seconds: float,
    memory_mb: int | None,
    max_source_bytes: int | None,
    min_std: float | None,
    max_nan_fraction: float | None,
    good_path: str | None,
) -> None:
    """Compile and test-render programs (.frag/.glsl, Shadertoy JSON, TwiGL); report failures.

    A frame fails as a rendered sample would: near_constant (flat, in any colour) or nan (too
    many NaN pixels; a few are stored black). Exit status 0 when every program passes, 1 when
    some fail.

    \b
    Example:
      synthgen shaders check my-shaders/ export.json --good my-shaders/good.txt
      # then in a recipe:  programs: [my-shaders/good.txt]
    """
    from synthgen.sources.shader.check import MAX_TIMES, check_programs, write_good_list
    from synthgen.sources.shader.config import ShaderRejectConfig, WatchdogConfig
    from synthgen.text import printable

    try:
        frame_times = [float(t) for t in times.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {times!r}", param_hint="--times") from None
    if len(frame_times) > MAX_TIMES:
        raise click.BadParameter(f"at most {MAX_TIMES} test frames, got {len(frame_times)}", param_hint="--times")
    watchdog = WatchdogConfig(frame_seconds=frame_seconds, memory_mb=memory_mb, max_source_bytes=max_source_bytes)
    given = {"min_std": min_std, "max_nan_fraction": max_nan_fraction}
    reject = ShaderRejectConfig(**{key: value for key, value in given.items() if value is not None})
    with progress_bar(unit="program", desc="checking") as bar:
        results = check_programs(
            paths, fmt=fmt, size=size, times=frame_times, reject=reject, watchdog=watchdog, progress=bar.update
        )
    failed = [r for r in results if not r.ok]
    if failed:
        width = max(len(r.status) for r in failed)
        for result in failed:
            # File names and shader ids come from the files: escaped, as is the driver's log.
            click.echo(f"{result.status:<{width}}  {printable(result.source)}: {printable(result.detail)}")
    passed = sum(r.ok for r in results)
    tried = ", ".join(f"{t:g}" for t in frame_times)
    click.echo(
        f"{passed} of {sum(r.program is not None for r in results)} programs pass "
        f"(frames at iTime {tried} s, {size}x{size} px)"
    )
    if good_path:
        click.echo(f"wrote {write_good_list(results, good_path)} programs to {good_path}")
    sys.exit(1 if failed else 0)


for _command in (train, eval_command, experiment, diffusion, recipes, schema):
    cli.add_command(_command)
add_common_options(cli)  # last: every command is in the tree by now


def format_report(report: dict[str, Any]) -> str:
    kind = report.get("kind", "corpus")
    if kind != "corpus":  # a brace pattern, a saved stream: no manifest to be complete with
        state = kind
    else:
        state = "complete" if report["complete"] else "INCOMPLETE: no manifest yet"
    per_image = report["filesize"] / max(report["nimages"], 1) / 1024
    failed = ", ".join(f"{n} {reason}" for reason, n in report["failures"].items())
    failures = f"{failed} (failed draws, each redrawn)" if failed else "none"
    lines = [
        f"corpus     {report['url']}  ({state})",
        f"recipe     {report['name']}  sha256 {report['recipe_sha256']}",
        f"samples    {report['nsamples']} in {counted(report['nshards'], 'shard')}, "
        f"{counted(report['views'], 'view')} each ({counted(report['nimages'], 'image')})",
        f"bytes      {report['filesize']:,} ({per_image:.1f} KiB per image)",
        f"failures   {failures}" if kind == "corpus" else f"failures   not recorded in a {kind}",
    ]
    if "card" in report and kind == "corpus":
        from synthgen.corpus.card import card_line

        lines.append(card_line(report["card"]))
    if report.get("excluded"):
        lines.append(f"excluded   {excluded_line(report['excluded'])}")
    stats = report["images"]
    if stats["decoded"]:
        mean = " ".join(f"{v:.1f}" for v in stats["mean"])
        std = " ".join(f"{v:.1f}" for v in stats["std"])
        lines += [
            f"images     {stats['decoded']} decoded, {stats['width']}x{stats['height']}",
            f"  mean RGB {mean}   std RGB {std}",
            f"  near-constant {stats['near_constant_fraction']:.1%} (pixel std < {stats['near_constant_std']})",
        ]
    if stats.get("undecodable"):
        lines.append(f"  undecodable {stats['undecodable']} samples, the first: {stats['first_undecodable']}")
    if report.get("classes"):
        from synthgen.corpus.inspect import class_lines

        lines += class_lines(report["classes"])
    return "\n".join(lines)


# Excluded programs named by `inspect`; the rest are counted (--json lists them all).
SHOWN_EXCLUDED = 3


def excluded_line(excluded: list[dict[str, str]]) -> str:
    """`3 programs (compile_error 2, timeout 1): programs/a, programs/b, programs/c and 1 more`."""
    reasons = Counter(entry["reason"] for entry in excluded)
    ids = ", ".join(printable(entry["id"]) for entry in excluded[:SHOWN_EXCLUDED])  # ids come from files
    more = len(excluded) - SHOWN_EXCLUDED
    by_reason = ", ".join(f"{printable(reason)} {n}" for reason, n in sorted(reasons.items()))
    return f"{counted(len(excluded), 'program')} ({by_reason}): {ids}" + (f" and {more} more" if more > 0 else "")


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="synthgen")


if __name__ == "__main__":
    main()
