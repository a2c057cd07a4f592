"""synthgen: recipes in, fixed-size synthetic image corpora out (WebDataset shards).

The public API, for notebooks and scripts (docs/python-api.md):

    from synthgen.shipped import shipped_path   # the recipes that come with synthgen
    recipe = synthgen.load_recipe(shipped_path("noise-demo-spectrum", "recipe"), count=64)
    synthgen.render_corpus(recipe, "out/noise")
    corpus = synthgen.open_corpus("out/noise")

The functions draw no progress bar and print nothing: they log to the `synthgen` loggers
(`logging`), report progress to an `on_progress` callback (synthgen.progress.ProgressUpdate;
synthgen.cli_progress.ProgressBars draws the command's bars), and return typed results
(`pretrain` a TrainSummary, `evaluate_encoder` an EvalReport, each with `to_dict()`, the JSON
that the commands write).

Recipes run code only where the caller allows it (synthgen.permissions): `render_corpus` and
`run_experiment` take `permissions=Permissions.allowing(allow_code=["mygens"],
trust_pickle=["gen.pkl"])`, what `--allow-code` and `--trust-pickle` give the commands; `pretrain`
uses the permissions in effect, given with `with synthgen.permissions.granting(permissions):`.
By default (permissions=None, no block) only what the environment variables SYNTHGEN_ALLOW_CODE
and SYNTHGEN_TRUST_PICKLE allow: nothing, unless they are set.

Each name is imported on first use (PEP 562), so `import synthgen` (and the CLI's import of
`__version__`) stays cheap: no torch, webdataset or moderngl until a name that needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ imports these on demand
    from synthgen.corpus.read import Corpus
    from synthgen.evaluate.features import load_encoder
    from synthgen.evaluate.run import evaluate as evaluate_encoder
    from synthgen.experiment.config import load_experiment
    from synthgen.experiment.run import run_experiment
    from synthgen.realdata import import_dataset
    from synthgen.recipe import load_recipe
    from synthgen.render import render_corpus, render_samples
    from synthgen.train.config import load_train_config
    from synthgen.train.loop import train as pretrain

# Each public name and where it is defined (module, name there). Module names as strings,
# imported by importlib when the name is first read: no import from here to a submodule at load
# time. Training and evaluation are `pretrain` and `evaluate_encoder`, not `train` and `evaluate`:
# those name the subpackages synthgen/train/ and synthgen/evaluate/, which Python binds as
# attributes of this package when they are imported, so a function of the same name would be
# replaced by its package as soon as anything imported from it.
_LAZY: dict[str, tuple[str, str]] = {
    "load_recipe": ("synthgen.recipe", "load_recipe"),
    "render_corpus": ("synthgen.render", "render_corpus"),
    "render_samples": ("synthgen.render", "render_samples"),
    "load_train_config": ("synthgen.train.config", "load_train_config"),
    "pretrain": ("synthgen.train.loop", "train"),
    "evaluate_encoder": ("synthgen.evaluate.run", "evaluate"),
    "load_encoder": ("synthgen.evaluate.features", "load_encoder"),
    "import_dataset": ("synthgen.realdata", "import_dataset"),
    "load_experiment": ("synthgen.experiment.config", "load_experiment"),
    "run_experiment": ("synthgen.experiment.run", "run_experiment"),
}

__all__ = ["__version__", "open_corpus", *_LAZY]


def open_corpus(url: str, storage_options: dict[str, Any] | None = None) -> Corpus:
    """Open the corpus at a folder or URL (`s3://...`, with fsspec `storage_options`) for reading.

    The result has `.manifest` (None while the corpus is still being rendered: then its committed
    shards so far), `.complete`, `.nsamples`, `.shards`, and `.samples(limit=None)`, which yields
    each sample in order as `{"__key__": key, field: bytes}`: view 0 under its image format
    (`png`, `jpg`, `webp`), further views as `view1.png`, ..., and `json` (and `cls`, `txt`).
    Raises CorpusError when there is no corpus there.
    """
    from synthgen.corpus.read import Corpus

    return Corpus(url, storage_options)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # found once; later reads do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
