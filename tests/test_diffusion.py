"""The `diffusion` source through the real code path, on a tiny pipeline the tests build (no downloads).

Corpora here are a few samples of 16x16 images generated at 32x32 in one step, so that the whole
file runs in about 15 seconds on a 2-core CPU, a third of it importing diffusers.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

pytest.importorskip("diffusers", reason="the diffusion source needs diffusers (pip install -e '.[diffusion]')")
pytest.importorskip("transformers", reason="the diffusion source needs transformers (pip install -e '.[diffusion]')")

from click.testing import CliRunner  # noqa: E402
from PIL import Image  # noqa: E402

from synthgen.cli_diffusion import diffusion  # noqa: E402
from synthgen.errors import RecipeError, SourceError  # noqa: E402
from synthgen.recipe import load_recipe, parse_recipe  # noqa: E402
from synthgen.render import render_corpus  # noqa: E402
from synthgen.seeds import sample_seed  # noqa: E402
from synthgen.shipped import SHIPPED_ROOT  # noqa: E402
from synthgen.sources import build_source, source_class  # noqa: E402
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec  # noqa: E402
from synthgen.sources.diffusion.pipeline import native_size  # noqa: E402
from synthgen.sources.diffusion.source import view_seeds  # noqa: E402
from synthgen.sources.diffusion.tiny import make_tiny_pipeline  # noqa: E402

RECIPES = SHIPPED_ROOT / "recipes"
PROMPTS = ["a red cube on a table", "a dog, running", 'a "quoted" sign']
CLASSES = ["cat", "dog", "tree"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pipeline `synthgen diffusion make-tiny` writes, built once for this file."""
    return make_tiny_pipeline(tmp_path_factory.mktemp("models") / "tiny-sd")


def recipe_document(model: Path | str, prompts: dict[str, Any], **changes: Any) -> dict[str, Any]:
    source = {"kind": "diffusion", "model": str(model), "prompts": prompts, "steps": 1, "generation_size": 32}
    document = {
        "name": "diffusion-test",
        "count": 3,
        "seed": 5,
        "views": 1,
        "image": {"size": 16, "format": "png"},
        "shard": {"samples": 4},
        "source": {**source, "batch_size": 4, **changes.pop("source", {})},
    }
    return {**document, **changes}


def make_recipe(model: Path | str, prompts: dict[str, Any], base_dir: Path | None = None, **changes: Any):
    return parse_recipe(recipe_document(model, prompts, **changes), base_dir=base_dir)


def read_corpus(folder: Path) -> dict[str, dict[str, bytes]]:
    """Every sample of a rendered corpus: key -> {field: bytes}, from the tars in shard order."""
    samples: dict[str, dict[str, bytes]] = {}
    for shard in sorted(folder.glob("shard-*.tar")):
        with tarfile.open(shard) as tar:
            for member in tar.getmembers():
                key, _, field = member.name.partition(".")
                samples.setdefault(key, {})[field] = tar.extractfile(member).read()
    return samples


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


# --- prompt sources -----------------------------------------------------------------------


def write_prompts(folder: Path, fmt: str) -> dict[str, Any]:
    """PROMPTS in a file of format `fmt`, with a blank entry and an unrelated column to skip."""
    if fmt == "txt":
        path = folder / "prompts.txt"
        path.write_text(f"{PROMPTS[0]}\n\n{PROMPTS[1]}\n{PROMPTS[2]}\n")
        return {"file": path.name}
    rows = [{"id": 0, "caption": PROMPTS[0]}, {"id": 1, "caption": ""}]
    rows += [{"id": i + 2, "caption": text} for i, text in enumerate(PROMPTS[1:])]
    if fmt == "jsonl":
        path = folder / "prompts.jsonl"
        path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    elif fmt == "csv":
        path = folder / "prompts.csv"
        with open(path, "w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=["id", "caption"])
            writer.writeheader()
            writer.writerows(rows)
    else:
        path = folder / "prompts.parquet"
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist(rows), path)
        except ImportError:
            pd = pytest.importorskip("pandas", reason="parquet files need pyarrow or pandas")
            pd.DataFrame(rows).to_parquet(path)
    return {"file": path.name, "column": "caption"}


@pytest.mark.parametrize("fmt", ["txt", "jsonl", "csv", "parquet", "classes"])
def test_each_prompt_source_renders_its_prompts_in_order(fmt: str, tiny_model: Path, tmp_path: Path):
    if fmt == "parquet" and not any(_importable(name) for name in ("pyarrow", "pandas")):
        pytest.skip("reading .parquet needs pyarrow or pandas, and neither is installed")
    if fmt == "classes":
        prompts = {"classes": CLASSES, "templates": ["a photo of a {}.", "a drawing of a {}."]}
        expected = ["a photo of a cat.", "a photo of a dog.", "a photo of a tree.", "a drawing of a cat."]
    else:
        prompts = write_prompts(tmp_path, fmt)
        expected = [*PROMPTS, PROMPTS[0]]  # sample i takes prompt i mod 3
    recipe = make_recipe(tiny_model, prompts, base_dir=tmp_path, count=4)
    render_corpus(recipe, str(tmp_path / "out"))
    samples = read_corpus(tmp_path / "out")
    assert [sample["txt"].decode() for sample in samples.values()] == expected
    classes = [sample.get("cls") for sample in samples.values()]
    assert classes == ([b"0", b"1", b"2", b"0"] if fmt == "classes" else [None] * 4)


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def test_long_prompts_are_truncated_quietly_and_kept_whole_in_txt(tiny_model: Path, tmp_path: Path, capfd):
    long = " ".join(["a very long caption"] * 40)  # far past CLIP's 77 tokens
    (tmp_path / "long.txt").write_text(long + "\n")
    recipe = make_recipe(tiny_model, {"file": "long.txt"}, base_dir=tmp_path, count=1)
    render_corpus(recipe, str(tmp_path / "out"))
    assert next(iter(read_corpus(tmp_path / "out").values()))["txt"].decode() == long
    assert "truncated" not in capfd.readouterr().err


def test_unreadable_prompt_files_are_one_line_errors(tmp_path: Path):
    from synthgen.sources.diffusion.prompts import load_prompts

    (tmp_path / "p.csv").write_text("id,text\n0,a cat\n")
    (tmp_path / "empty.txt").write_text("\n \n")
    cases = {
        "missing.txt": ({"file": "missing.txt"}, "source.prompts.file: no such file"),
        "p.csv": ({"file": "p.csv", "column": "caption"}, "no column 'caption' (columns: id, text)"),
        "empty.txt": ({"file": "empty.txt"}, "holds no prompts"),
        "classes": ({"classes": "missing-classes.txt"}, "source.prompts.classes: no such file"),
    }
    for prompts, message in cases.values():
        recipe = make_recipe("./model", prompts, base_dir=tmp_path)
        with pytest.raises(SourceError, match=re.escape(message)) as caught:
            load_prompts(recipe.source.prompts)
        assert "\n" not in str(caught.value)


# --- corpus layout, determinism, batching -----------------------------------------------------


def test_a_sample_is_one_prompt_with_its_views_txt_and_cls(tiny_model: Path, tmp_path: Path):
    prompts = {"classes": CLASSES, "templates": ["a photo of a {}."]}
    recipe = make_recipe(tiny_model, prompts, count=5, views=3, source={"batch_size": 2})
    summary = render_corpus(recipe, str(tmp_path / "out"))
    assert (summary.nshards, summary.nimages) == (2, 15)
    samples = read_corpus(tmp_path / "out")
    assert list(samples) == [f"{i:012d}" for i in range(5)]
    for index, sample in enumerate(samples.values()):
        assert set(sample) == {"png", "view1.png", "view2.png", "json", "txt", "cls"}
        meta = json.loads(sample["json"])
        assert sample["txt"].decode() == meta["prompt"] == f"a photo of a {CLASSES[index % 3]}."
        assert int(sample["cls"]) == index % 3 and meta["class_name"] == CLASSES[index % 3]
        assert meta["kind"] == "diffusion" and meta["prompt_index"] == index % 3
        assert meta["generation_size"] == [32, 32] and meta["guidance_scale"] == 2.0 and meta["steps"] == 1
        assert meta["pipeline"] == "StableDiffusionPipeline" and meta["dtype"] == "float32"
        seeds = [view["seed"] for view in meta["views"]]
        assert seeds == view_seeds(sample_seed(recipe.seed, index), 3) and len(set(seeds)) == 3
        views = [pixels(sample[field]) for field in ("png", "view1.png", "view2.png")]
        assert all(view.shape == (16, 16, 3) for view in views)  # generated at 32, stored at 16
        assert not np.array_equal(views[0], views[1])  # one prompt, different seeds


# (The same bytes from the same recipe, rendered again, resumed or sample by sample:
# tests/test_source_contract.py.) Here: across recipes that differ only in batch size.
def test_batching_does_not_change_the_images(tiny_model: Path, tmp_path: Path):
    # Five samples: batches of 4 leave a padded batch of 1; batches of 1 are all full.
    corpora = {}
    for batch_size in (1, 4):
        recipe = make_recipe(tiny_model, {"classes": CLASSES}, count=5, views=2, source={"batch_size": batch_size})
        render_corpus(recipe, str(tmp_path / f"b{batch_size}"))
        corpora[batch_size] = read_corpus(tmp_path / f"b{batch_size}")
    for key, sample in corpora[1].items():
        other = corpora[4][key]
        for field in ("png", "view1.png", "txt", "cls"):
            assert sample[field] == other[field], (key, field)


def test_non_finite_images_are_redrawn_and_counted(tiny_model: Path):
    recipe = make_recipe(tiny_model, {"classes": CLASSES}, views=2)
    source = build_source(recipe)
    try:
        real = source.pipeline
        assert native_size(real) == (64, 64)  # what an unset generation_size means for the tiny pipeline
        calls = []

        def first_call_gives_nan(**kwargs: Any) -> Any:
            output = real(**kwargs)
            if not calls:
                output.images[2] = float("nan")  # image 2 = sample 1, view 0
            calls.append(kwargs)
            return output

        source.pipeline = first_call_gives_nan
        specs = [SampleSpec(i, sample_seed(recipe.seed, i), 0, 2) for i in range(3)]
        results = source.render(specs)
        assert isinstance(results[1], SampleFailure) and results[1].reason == "nan"
        assert all(isinstance(results[i], RenderedSample) for i in (0, 2))
        assert len(calls[0]["generator"]) == 4 * 2  # a full batch: 4 prompts (one padding) of 2 views
    finally:
        source.close()


def test_view_seeds():
    assert view_seeds(123, 5)[:2] == view_seeds(123, 2)
    assert len(set(view_seeds(123, 10))) == 10


# --- model loading ----------------------------------------------------------------------------


def test_a_missing_model_is_one_line_that_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    recipe = make_recipe("./no-such-model", {"classes": CLASSES}, base_dir=tmp_path)
    source_class("diffusion").check(recipe)  # validating needs no model
    with pytest.raises(SourceError) as caught:
        render_corpus(recipe, str(tmp_path / "out"))
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path / "no-such-model") in message and "make-tiny" in message

    # A hub id that is not in the cache, offline: no network request, one line naming it.
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    recipe = make_recipe("synthgen-tests/no-such-pipeline", {"classes": CLASSES})
    assert recipe.source.model == "synthgen-tests/no-such-pipeline"
    with pytest.raises(SourceError) as caught:
        build_source(recipe)
    message = str(caught.value)
    assert "\n" not in message and "'synthgen-tests/no-such-pipeline'" in message
    assert "HF_HUB_OFFLINE" in message and "hf download synthgen-tests/no-such-pipeline" in message


def test_a_folder_without_a_pipeline_is_refused(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    recipe = make_recipe(tmp_path / "empty", {"classes": CLASSES})
    with pytest.raises(SourceError, match="is not a diffusers pipeline folder"):
        build_source(recipe)


# --- recipes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"guidance_scale": -1}, "source.guidance_scale: must be >= 0"),
        ({"steps": 0}, "source.steps: must be >= 1"),
        ({"generation_size": 100}, "source.generation_size: each side must be a multiple of 8"),
        ({"scheduler": "fast"}, "source.scheduler: expected one of ddim"),
        ({"guidance_scale": 1.0, "negative_prompt": "blurry"}, "source.negative_prompt: has no effect unless"),
        ({"prompts": {"classes": ["cat"], "templates": ["a cat"]}}, "each template holds `{}` exactly once"),
        ({"prompts": {"classes": ["cat"], "file": "p.txt"}}, "give exactly one of `file` or `classes`"),
        ({"prompts": {"file": "p.csv"}}, "`column` names the prompt column of p.csv"),
        ({"prompts": {"file": "p.xlsx"}}, "source.prompts.file: expected a .txt"),
    ],
)
def test_recipe_errors_name_the_field(changes: dict[str, Any], message: str):
    with pytest.raises(RecipeError, match=re.escape(message)):
        make_recipe("org/model", {"classes": CLASSES}, source=changes)


def test_images_per_prompt_must_equal_views():
    recipe = make_recipe("org/model", {"classes": CLASSES}, views=10, source={"images_per_prompt": 10})
    source_class("diffusion").check(recipe)
    recipe = make_recipe("org/model", {"classes": CLASSES}, views=1, source={"images_per_prompt": 10})
    with pytest.raises(SourceError, match="source.images_per_prompt: 10, but views is 1"):
        source_class("diffusion").check(recipe)


def test_models_are_folders_or_hub_ids(tmp_path: Path):
    assert make_recipe("stabilityai/sd-turbo", {"classes": CLASSES}, base_dir=tmp_path).source.model == (
        "stabilityai/sd-turbo"
    )
    for written in ("./tiny", "../tiny", "tiny"):
        model = make_recipe(written, {"classes": CLASSES}, base_dir=tmp_path).source.model
        assert model == str((tmp_path / written).resolve())
    (tmp_path / "org" / "local").mkdir(parents=True)  # a folder next to the recipe wins over a hub id
    assert make_recipe("org/local", {"classes": CLASSES}, base_dir=tmp_path).source.model == str(tmp_path / "org/local")
    recipe = make_recipe("org/model", {"classes": ["cat"]})
    assert recipe.resolved()["source"]["prompts"]["templates"] == ["a photo of a {}."]


def test_the_demo_recipe_renders_with_the_tiny_pipeline(tiny_model: Path, tmp_path: Path):
    recipe = load_recipe(RECIPES / "diffusion-demo.yaml", [f"source.model={tiny_model}"], count=4)
    summary = render_corpus(recipe, str(tmp_path / "demo"))
    assert summary.nsamples == 4 and summary.nimages == 4 * recipe.views
    assert all(sample["txt"] and "cls" in sample for sample in read_corpus(tmp_path / "demo").values())


def test_the_demo_renders_from_any_folder_with_the_tiny_pipeline_built_once_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from synthgen.cli import cli

    cache = tmp_path / "cache"
    monkeypatch.setenv("SYNTHGEN_CACHE", str(cache))
    monkeypatch.chdir(tmp_path)
    args = ["render", "diffusion-demo", "--count", "4", "--set", "image.size=16", "--set", "source.steps=1", "--quiet"]
    result = CliRunner().invoke(cli, [*args, "--out", "first"])
    assert result.exit_code == 0, result.output
    built = cache / "tiny-sd-v1" / "model_index.json"
    assert built.is_file() and sorted(path.name for path in cache.iterdir()) == ["tiny-sd-v1"]  # no scratch left
    written = built.stat().st_mtime_ns
    result = CliRunner().invoke(cli, [*args, "--out", "second"])
    assert result.exit_code == 0, result.output
    assert built.stat().st_mtime_ns == written  # reused, not built again
    first, second = (json.loads((tmp_path / out / "manifest.json").read_text()) for out in ("first", "second"))
    assert first["shardlist"] == second["shardlist"]  # the same bytes
    # The recipe names the model; where the cache is does not change its hash.
    assert first["recipe"]["source"]["model"] == "synthgen:tiny-sd"
    samples = read_corpus(tmp_path / "first").values()
    assert all(json.loads(sample["json"])["model"] == "synthgen:tiny-sd" for sample in samples)


def test_workers_that_build_the_tiny_pipeline_at_once_end_with_one(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import shutil

    from synthgen.sources.diffusion import tiny

    monkeypatch.setenv("SYNTHGEN_CACHE", str(tmp_path))
    final = tmp_path / f"tiny-sd-v{tiny.TINY_VERSION}"

    def build_while_another_worker_wins(folder: Path, seed: int = 0) -> Path:
        shutil.copytree(tiny_model, final)  # the other worker's rename lands first
        shutil.copytree(tiny_model, folder)
        return folder

    monkeypatch.setattr(tiny, "make_tiny_pipeline", build_while_another_worker_wins)
    assert tiny.cached_tiny_pipeline() == final
    assert sorted(path.name for path in tmp_path.iterdir()) == [final.name]  # this worker's copy is gone
    monkeypatch.setattr(tiny, "make_tiny_pipeline", None)  # found now: nothing is built
    assert tiny.cached_tiny_pipeline() == final


def test_an_unknown_built_in_model_is_refused():
    with pytest.raises(RecipeError, match=r"source.model: unknown built-in model 'synthgen:huge'; built in: synthgen"):
        make_recipe("synthgen:huge", {"classes": CLASSES})


def test_shipped_diffusion_recipes_validate_without_their_model_or_prompts():
    paths = [path for path in sorted(RECIPES.glob("*.yaml")) if "kind: diffusion" in path.read_text()]
    assert {"diffusion-demo", "stablerep-cc12m", "imagenet-classes-sdturbo"} <= {path.stem for path in paths}
    for path in paths:
        recipe = load_recipe(path)
        source_class("diffusion").check(recipe)
        assert recipe.name == path.stem
        assert recipe.shard.samples % recipe.source.batch_size == 0, "full batches: no padding wasted"


# --- command line -----------------------------------------------------------------------------


def test_make_tiny_and_prompts_commands(tmp_path: Path):
    runner = CliRunner()
    result = runner.invoke(diffusion, ["make-tiny", str(tmp_path / "tiny")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tiny" / "model_index.json").is_file() and "wrote a tiny pipeline" in result.output
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    result = runner.invoke(diffusion, ["make-tiny", str(tmp_path / "busy")])
    assert isinstance(result.exception, SourceError)
    assert "holds something other than a pipeline" in str(result.exception)

    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe_document("./tiny", {"classes": CLASSES}, count=7)))
    result = runner.invoke(diffusion, ["prompts", str(path), "--count", "2"])
    assert result.exit_code == 0, result.output
    assert "a photo of a cat.  [cls 0]" in result.output and "3 prompts; 7 samples" in result.output
