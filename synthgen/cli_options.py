"""Options and option parsing shared by the `synthgen` commands, and the command's logging."""

from __future__ import annotations

import functools
import logging
import os
import sys
from typing import Any

import click

from synthgen.permissions import Permissions, load_permissions

overrides_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a recipe key, e.g. --set source.time.max=5 (repeatable; VALUE is YAML).",
)
count_option = click.option("--count", type=click.IntRange(min=1), help="Override the recipe's sample count.")
# What an error about the count that --count gave names (synthgen.schema.Origins).
COUNT_ORIGIN = {"count": "--count"}
storage_option = click.option(
    "--storage-option",
    "storage_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An fsspec storage option for a remote corpus, e.g. endpoint_url=http://127.0.0.1:9000 (repeatable).",
)

# --- one spelling per option -----------------------------------------------------------------------
# "How many" is --count on every command (render, validate, preview, inspect, shaders generate,
# diffusion prompts). An older spelling stays as a hidden alias for a while: it works, and the
# command says once, as it starts, what to write instead.
_RENAMED = "synthgen.renamed"


def renamed_option(old: str, new: str, dest: str, **attrs: Any) -> Any:
    """A hidden option `old` that sets `dest` as the option `new` does (declared with that `dest`);
    using it logs one warning naming `new`."""

    def rename(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        # A parameter of its own (not `dest`: click would give it `new`'s value too): it fills
        # `dest`, which `new`'s default then leaves as it is.
        if value is not None:
            ctx.params[dest] = value
            ctx.meta.setdefault(_RENAMED, []).append(f"{old} is now {new}: {old} will go in a later release")

    return click.option(old, f"{dest}_as_{old.lstrip('-')}", hidden=True, expose_value=False, callback=rename, **attrs)


def refused_option(old: str, new: str, why: str) -> Any:
    """A hidden option `old` that is refused with a hint: for a spelling that means another thing
    elsewhere (`shaders list --set` was the program set; `--set` is KEY=VALUE everywhere else)."""

    def refuse(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is not None:
            raise click.BadParameter(f"{old} is {new} here ({why}): {new} {value}", param_hint=old)

    return click.option(old, hidden=True, expose_value=False, callback=refuse)


def _warn_renamed() -> None:
    ctx = click.get_current_context(silent=True)
    for message in ctx.meta.get(_RENAMED, []) if ctx is not None else []:
        logging.getLogger("synthgen.cli").warning("%s", message)


# What only the user may allow a recipe (synthgen/permissions.py): declared once, on every command
# that renders recipes (render, validate, train, experiment).
_allow_code_option = click.option(
    "--allow-code",
    "allow_code",
    multiple=True,
    metavar="MODULE",
    help="Let a recipe run code from MODULE or its submodules, e.g. a gan `generator: MODULE:factory` "
    "(repeatable; also SYNTHGEN_ALLOW_CODE=mod1,mod2).",
)
_trust_pickle_option = click.option(
    "--trust-pickle",
    "trust_pickle",
    multiple=True,
    metavar="FILE_OR_SHA256",
    help="Let a checkpoint that only full unpickling reads (which can run code) be unpickled: this file, "
    "or any with this sha256 (repeatable; also SYNTHGEN_TRUST_PICKLE=a,b).",
)


def permission_options(command: Any) -> Any:
    """--allow-code and --trust-pickle; the command reads them with `parse_permissions`."""
    return _allow_code_option(_trust_pickle_option(command))


def parse_permissions(allow_code: tuple[str, ...], trust_pickle: tuple[str, ...]) -> Permissions:
    """The permissions the flags and the environment variables give, together."""
    return load_permissions(allow_code, trust_pickle)


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


# --- --quiet and --verbose: on every command, before it or after it -------------------------------

QUIET, NORMAL, VERBOSE = "quiet", "normal", "verbose"
# What the command's stderr shows at each verbosity. Normal is what synthgen always printed:
# warnings and errors (the library's info lines, e.g. the monitor's figures, would repeat what the
# progress bar and the final line say); --verbose adds info and debug, --quiet keeps errors only.
_LEVELS = {QUIET: logging.ERROR, NORMAL: logging.WARNING, VERBOSE: logging.DEBUG}


def _remember(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value:
        return
    given = ctx.find_root().ensure_object(dict).setdefault("verbosity", set())
    given.add(param.name)
    if len(given) > 1:
        raise click.UsageError("--quiet and --verbose exclude each other")


def _remember_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:  # read by the root command's error handling (cli._Group)
        ctx.find_root().ensure_object(dict)["debug"] = True


def _verbosity_options() -> list[click.Option]:
    return [
        click.Option(
            ["--debug"], is_flag=True, expose_value=False, callback=_remember_debug,
            help="Show tracebacks instead of one-line errors.",
        ),
        click.Option(
            ["--quiet"], is_flag=True, expose_value=False, callback=_remember,
            help="Errors only: no progress bars, no warnings.",
        ),
        click.Option(
            ["--verbose"], is_flag=True, expose_value=False, callback=_remember,
            help="Also synthgen's info and debug messages.",
        ),
    ]  # fmt: skip


def verbosity() -> str:
    """QUIET, NORMAL or VERBOSE, as the running command was given (NORMAL outside a command)."""
    ctx = click.get_current_context(silent=True)
    given = (ctx.find_root().obj or {}).get("verbosity", set()) if ctx is not None else set()
    return QUIET if "quiet" in given else VERBOSE if "verbose" in given else NORMAL


def add_common_options(command: click.Command) -> None:
    """Give `command`, and every command under it, --quiet, --verbose and --debug (declared here once), so
    that they may come before a command's name or after it; each command configures logging as it
    starts, and takes its handler away when it ends."""
    command.params.extend(_verbosity_options())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_common_options(sub)
    elif command.callback is not None:
        command.callback = _logging_around(command.callback)


def _logging_around(callback: Any) -> Any:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        logger = logging.getLogger("synthgen")
        level = logger.level
        handler = configure_logging(verbosity())
        _warn_renamed()
        try:
            return callback(*args, **kwargs)
        finally:  # as it was: a test runner, or a program calling main(), goes on in this process
            logger.removeHandler(handler)
            logger.setLevel(level)

    return run


class _StderrHandler(logging.Handler):
    """Writes each record as one line on stderr, through tqdm so that a progress bar stays whole;
    stderr is looked up per record (the test runner swaps it).

    A forked child (a training loader worker) inherits this handler but writes plainly: tqdm's
    lock may have been held by a thread of the parent when it forked, and would never be released
    in the child. On a terminal it starts a new line, leaving the parent's bar line whole.
    """

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self._pid = os.getpid()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            if os.getpid() != self._pid:
                sys.stderr.write(("\n" if sys.stderr.isatty() else "") + text + "\n")
                sys.stderr.flush()
                return
            from tqdm import tqdm

            tqdm.write(text, file=sys.stderr)
        except Exception:
            self.handleError(record)


class _Formatter(logging.Formatter):
    """`warning: MESSAGE`, `error: MESSAGE` (as synthgen's own lines read), info as the bare
    message, and debug with the module that says it."""

    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        if record.levelno == logging.INFO:
            return message
        if record.levelno == logging.DEBUG:
            return f"debug: {record.name}: {message}"
        return f"{record.levelname.lower()}: {message}"


def configure_logging(chosen: str) -> logging.Handler:
    """Show the `synthgen` loggers' records on stderr as `chosen` (QUIET, NORMAL, VERBOSE) says:
    one handler, replacing any an earlier command left. Returns it."""
    root = logging.getLogger("synthgen")
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    handler = _StderrHandler(_LEVELS[chosen])
    handler.setFormatter(_Formatter())
    root.addHandler(handler)
    # The handler filters; the logger lets debug records be made only when they will be shown
    # (NOTSET: the root logger's level, WARNING, as for any library).
    root.setLevel(logging.DEBUG if chosen == VERBOSE else logging.NOTSET)
    return handler
