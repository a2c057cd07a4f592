"""The contract every source family keeps (synthgen/sources/base.py; DESIGN.md, "Contracts"),
checked once for every family on a tiny corpus rather than by a round trip copied into each
family's tests. Each case renders 4 samples in 2 shards on a pool of 2 spawned workers (the
diffusion case in this process), then:

(a) the corpus holds `count` samples, each with `views` images at `image.size` in `image.format`
    and a json with the fields DESIGN.md names;
(b) sample i is a pure function of (recipe, i): a shard rendered again in this process (a resumed
    corpus), one sample alone, or samples out of order in a fresh source of the recipe at a larger
    count (a grown corpus: count N is a prefix of count M), give the same bytes, and the json
    carries the source's meta;
(c) the resolved recipe (as the manifest records it) parses back to the same recipe and hash;
(d) the source's pre-render check passes for it;
(e) where a draw can be rejected cheaply (a program that does not compile, a reject threshold),
    it is redrawn from a seed derived from (recipe seed, i, attempt) and counted, never dropped.
(The noise, diffusion and dataset families reject only on NaN output or not at all, which no
recipe triggers: their own tests cover that with a patched model.)

Family-specific meaning (what the meta says, classes, prompts) stays in each family's tests.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from synthgen import __version__
from synthgen.recipe import Recipe, canonical_json, load_recipe, parse_recipe
from synthgen.render import RenderSummary, render_corpus, render_samples, sample_fields
from synthgen.seeds import sample_seed
from synthgen.permissions import Permissions, granting
from synthgen.sources import build_source, source_class

from .helpers import BROKEN_PROGRAM, PROGRAMS, SpawnedPool, read_fields, small_gan_banks

# The gan-factory case's generator is test code: the user (here, the test) allows it.
TEST_CODE = Permissions.allowing(allow_code=["tests.gan_factories"])
from .test_eval_datasets import idx_bytes
from .test_golden import CORPORA, TINY_GAN, TMP
from .test_render import corpus_bytes

COUNT, SHARD = 4, 2
# Not square, so that a source swapping width and height shows.
SIZE = [24, 16]
PIL_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}


def write_programs(folder: Path) -> None:
    """The cheap test programs, and one that does not compile (sample 2's first draw at seed 3)."""
    (folder / "programs").mkdir()
    for name, code in {**PROGRAMS, "zz-broken.frag": BROKEN_PROGRAM}.items():
        (folder / "programs" / name).write_text(code)


def write_tiny_pipeline(folder: Path) -> None:
    pytest.importorskip("diffusers", reason="the diffusion source needs diffusers")
    pytest.importorskip("transformers", reason="the diffusion source needs transformers")
    from synthgen.sources.diffusion.tiny import make_tiny_pipeline

    make_tiny_pipeline(folder / "tiny-sd")


def write_idx(folder: Path) -> None:
    """idx:digits: 4 train and 2 t10k grey 10x10 images of random pixels, labels 0, 1, 2 in turn."""
    import numpy as np

    (folder / "digits").mkdir()
    rng = np.random.default_rng(4)
    for prefix, n in (("train", COUNT), ("t10k", 2)):
        (folder / "digits" / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(rng.integers(0, 256, (n, 10, 10))))
        (folder / "digits" / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(n) % 3))


@dataclass(frozen=True)
class Case:
    """One family's tiny corpus. `source` and `views` are the recipe's; paths in `source` are
    relative to the case's folder, which `setup` fills first (programs, a model, data)."""

    source: dict[str, Any]
    views: int = 2
    format: str = "png"
    setup: Callable[[Path], None] | None = None
    # The fields a sample has besides its images and json.
    extras: frozenset[str] = field(default_factory=frozenset)
    # The failure reason some draw of this corpus is rejected for (contract e).
    redrawn: str | None = None
    # Rendered by the pool's workers; else in this process (then only test_b's renders, in this
    # process too, show that the bytes do not depend on batches, order or a fresh source).
    workers: bool = True

    def recipe(self, name: str, folder: Path) -> Recipe:
        if self.setup is not None:
            self.setup(folder)
        document = {
            "name": f"contract-{name}",
            "count": COUNT,
            "seed": 3,
            "views": self.views,
            "image": {"size": SIZE, "format": self.format},
            "shard": {"samples": SHARD},
            "source": self.source,
        }
        return parse_recipe(json.loads(json.dumps(document).replace(TMP, str(folder))), base_dir=folder)


def golden(name: str, **changes: Any) -> Case:
    """The family's golden recipe (tests/test_golden.py), as a contract case."""
    return Case(source=CORPORA[name]["source"], **changes)


def untrained_gan(init: str, **source: Any) -> dict[str, Any]:
    return {"kind": "gan", "init": init, "network": TINY_GAN, "batch_size": 4, **source}


CLS = frozenset({"cls"})
CASES: dict[str, Case] = {
    "shader": Case(
        {"kind": "shader", "programs": ["programs"]},
        format="jpg",
        setup=write_programs,
        extras=CLS,
        redrawn="compile_error",
    ),
    **{name: golden(name) for name in CORPORA if name.startswith("noise-")},
    "gan-random": golden("gan-random"),
    "gan-highfreq": Case(untrained_gan("highfreq")),
    # Sample 2's first draw has a pixel std of 34 at seed 3: under this threshold.
    "gan-sparse-redrawn": Case(untrained_gan("sparse", reject={"min_std": 40}), redrawn="near_constant"),
    "gan-oriented": Case(untrained_gan("oriented")),
    "gan-factory": Case(
        {"kind": "gan", "generator": "tests.gan_factories:tiny_conditional", "batch_size": 4}, format="webp", extras=CLS
    ),
    # In this process only: a worker would import diffusers again, 5-10 s of CPU on its own.
    "diffusion": golden(
        "diffusion", format="jpg", setup=write_tiny_pipeline, extras=frozenset({"cls", "txt"}), workers=False
    ),
    "dataset": Case({"kind": "dataset", "dataset": "idx:digits"}, views=1, setup=write_idx, extras=CLS),
    "visualatom": golden("visualatom", extras=CLS),
    "fractal": golden("fractal", extras=CLS),
}


# Why test_e has nothing to check for a case. (Every test runs over all the cases, in one order:
# pytest groups tests by a module fixture's param index, and other lists would render cases twice.)
NO_REDRAW = {
    "noise": "noise rejects only a numerically broken sample, which no recipe makes (test_noise.py patches one)",
    "gan": "the gan family's redrawn case is gan-sparse-redrawn",
    "diffusion": "diffusion rejects only non-finite output, which no recipe makes (test_diffusion.py patches one)",
    "dataset": "a dataset source rejects nothing: its images are the dataset's",
    "visualatom": "its near-constant redraws are tested in tests/test_visualatom.py",
    "fractal": "its category redraws (the filling-rate filter) are tested in tests/test_fractal.py",
}


def params(marks: dict[str, pytest.MarkDecorator]) -> list[Any]:
    """Every case as a pytest param: shader cases need GL (`gl`); `marks` adds one to some cases."""
    found = []
    for name, case in CASES.items():
        here = [pytest.mark.gl] if case.source["kind"] == "shader" else []
        if name in marks:
            here.append(marks[name])
        found.append(pytest.param(name, marks=here))
    return found


ALL = params({})
REDRAWN = params(
    {name: pytest.mark.skip(reason=NO_REDRAW[case.source["kind"]]) for name, case in CASES.items() if not case.redrawn}
)


@dataclass(frozen=True)
class Rendered:
    case: Case
    recipe: Recipe
    out: Path
    summary: RenderSummary

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.out / "manifest.json").read_text())


@pytest.fixture(scope="module", autouse=True)
def small_and_single_threaded() -> Iterator[None]:
    """What the pool's workers do too: tiny tensors run fastest on one thread; small gan banks."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as patch:
        small_gan_banks(patch.setattr)
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def pool() -> Iterator[SpawnedPool]:
    """Two worker processes for the whole module: started (and torch imported) once, not per case."""
    executor = SpawnedPool(workers=2)
    yield executor
    executor.close()


@pytest.fixture(scope="module")
def corpus(request: pytest.FixtureRequest, pool: SpawnedPool, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """The case's corpus, rendered once (by the pool's two workers), to be read, never written."""
    name = request.param
    case = CASES[name]
    folder = tmp_path_factory.mktemp(name)
    recipe = case.recipe(name, folder)
    summary = render_corpus(recipe, str(folder / "out"), executor=pool if case.workers else None, permissions=TEST_CODE)
    return Rendered(case, recipe, folder / "out", summary)


def image_fields(recipe: Recipe) -> list[str]:
    fmt = recipe.image.format
    return [fmt, *(f"view{view}.{fmt}" for view in range(1, recipe.views))]


@pytest.mark.parametrize("corpus", ALL, indirect=True)
def test_a_the_corpus_holds_count_samples_of_views_images_with_their_json(corpus: Rendered):
    recipe, manifest = corpus.recipe, corpus.manifest()
    assert corpus.summary.nsamples == manifest["nsamples"] == recipe.count
    assert [shard["nsamples"] for shard in manifest["shardlist"]] == [SHARD] * (COUNT // SHARD)
    samples = read_fields(corpus.out)
    assert list(samples) == [f"{index:012d}" for index in range(recipe.count)]
    images = image_fields(recipe)
    for index, (key, fields) in enumerate(samples.items()):
        assert set(fields) == {*images, "json", *corpus.case.extras}, key
        for name in images:
            with Image.open(io.BytesIO(fields[name])) as image:
                assert (image.format, image.mode, list(image.size)) == (PIL_FORMATS[recipe.image.format], "RGB", SIZE)
        meta = json.loads(fields["json"])
        assert {k: meta[k] for k in ("key", "index", "recipe", "recipe_sha256", "kind")} == {
            "key": key,
            "index": index,
            "recipe": recipe.name,
            "recipe_sha256": recipe.sha256,
            "kind": recipe.source.kind,
        }
        assert meta["seed"] == sample_seed(recipe.seed, index, meta["attempt"])
        assert (meta["width"], meta["height"]) == tuple(SIZE) and meta["synthgen_version"] == __version__
        if recipe.source.kind != "dataset":  # an image of a dataset has no parameters to record
            assert len(meta["views"]) == recipe.views
        if "cls" in fields:
            assert fields["cls"].decode().isdigit()
        if "txt" in fields:
            assert fields["txt"].decode().strip()
    # Each sample is its own draw, not one image written `count` times.
    assert len({fields[images[0]] for fields in samples.values()}) == recipe.count


@pytest.mark.parametrize("corpus", ALL, indirect=True)
def test_b_sample_i_is_a_function_of_the_recipe_and_i(corpus: Rendered, tmp_path: Path):
    recipe, written = corpus.recipe, read_fields(corpus.out)
    # Shard 0 lost, with the manifest: this process renders it again (the workers wrote it first).
    resumed = tmp_path / "resumed"
    shutil.copytree(corpus.out, resumed)
    for name in ("manifest.json", "shard-000000.tar", "shard-000000.json"):
        (resumed / name).unlink()
    summary = render_corpus(recipe, str(resumed), permissions=TEST_CODE)
    assert (summary.rendered_shards, summary.rendered_samples) == (1, SHARD)
    assert corpus_bytes(resumed) == corpus_bytes(corpus.out)

    # A fresh source of the recipe grown by a shard (a dataset's count is its size: not grown), with
    # the same hash: the last sample alone, then one sample of each shard, in reverse order.
    grown = recipe if recipe.source.kind == "dataset" else parse_recipe(recipe.resolved() | {"count": COUNT + SHARD})
    assert grown.sha256 == recipe.sha256
    source = build_source(grown, permissions=TEST_CODE)
    try:
        again = render_samples(grown, source, [3]) + render_samples(grown, source, [2, 0])
    finally:
        source.close()
    for spec, sample in again:
        fields = sample_fields(grown, spec, sample)
        key = fields.pop("__key__")
        assert fields == written[key], key
        # The json carries what the source said about the sample.
        meta = json.loads(fields["json"])
        assert json.loads(canonical_json(sample.meta)).items() <= meta.items()


@pytest.mark.parametrize("corpus", ALL, indirect=True)
def test_c_the_resolved_recipe_parses_back_to_the_same_recipe(corpus: Rendered, tmp_path: Path):
    recipe, manifest = corpus.recipe, corpus.manifest()
    assert manifest["recipe"] == recipe.resolved() and manifest["recipe_sha256"] == recipe.sha256
    again = parse_recipe(manifest["recipe"])
    assert again.sha256 == recipe.sha256 and again.resolved() == recipe.resolved()
    # Written out as a file elsewhere (paths in it are absolute), as a user re-renders a corpus.
    path = tmp_path / "elsewhere" / "recipe.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(manifest["recipe"]))
    assert load_recipe(path).sha256 == recipe.sha256


@pytest.mark.parametrize("corpus", ALL, indirect=True)
def test_d_the_source_check_passes_for_the_recipe(corpus: Rendered):
    with granting(TEST_CODE):
        assert source_class(corpus.recipe.source.kind).check(corpus.recipe) is None


@pytest.mark.parametrize("corpus", REDRAWN, indirect=True)
def test_e_a_rejected_draw_is_redrawn_from_a_derived_seed_and_counted(corpus: Rendered):
    """That a redrawn sample has the same bytes in any process, test_b shows (it renders every
    index again, the redrawn one too); here: the corpus still holds `count` samples, and every
    failure is counted."""
    reason, manifest = corpus.case.redrawn, corpus.manifest()
    metas = [json.loads(fields["json"]) for fields in read_fields(corpus.out).values()]
    assert len(metas) == corpus.recipe.count
    assert manifest["failures"].get(reason, 0) >= 1, f"no {reason} at seed 3: pick a seed that rejects a draw"
    # Each rejected draw is one more attempt of its sample (seeded by the attempt: test_a).
    assert sum(meta["attempt"] for meta in metas) == sum(manifest["failures"].values())
    assert corpus.summary.failures == manifest["failures"]
