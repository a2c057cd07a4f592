"""The public Python API: `synthgen.NAME` for what a notebook needs, cheap to import, and the
documentation's example (docs/python-api.md) runs as written."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import synthgen

REPO = Path(__file__).resolve().parent.parent

# Each public name, and the module and name of the function it must be.
API = {
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


def test_the_api_names_are_listed_and_each_is_the_function_it_names():
    assert set(synthgen.__all__) == {*API, "open_corpus", "__version__"}
    assert set(synthgen.__all__) <= set(dir(synthgen))
    for name, (module, attribute) in API.items():
        assert getattr(synthgen, name) is getattr(importlib.import_module(module), attribute), name
    assert callable(synthgen.open_corpus) and isinstance(synthgen.__version__, str)
    with pytest.raises(AttributeError, match="module 'synthgen' has no attribute 'render_corpora'"):
        synthgen.render_corpora  # noqa: B018 (the access is the test)


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout


def test_import_synthgen_loads_no_heavy_library():
    loaded = _python(
        "import sys, synthgen, synthgen.cli; "
        "heavy = ('torch', 'webdataset', 'moderngl', 'fsspec'); "
        "print(sorted(m for m in heavy if m in sys.modules), synthgen.__version__)"
    )
    assert loaded.split() == ["[]", synthgen.__version__]


def test_the_api_functions_stay_what_they_are_whatever_was_imported_before():
    # Importing a subpackage binds it on its parent: the API's names must not be those of subpackages.
    found = _python(
        "import synthgen.train.data, synthgen.evaluate.features; import synthgen; "
        "print(synthgen.pretrain.__module__, synthgen.evaluate_encoder.__module__, synthgen.train.__name__)"
    )
    assert found.split() == ["synthgen.train.loop", "synthgen.evaluate.run", "synthgen.train"]


def test_render_a_recipe_and_read_it_back_through_the_api(tmp_path: Path):
    path = tmp_path / "noise.yaml"
    path.write_text(
        "name: api-noise\ncount: 8\nviews: 2\nimage: {size: 16, format: png}\nshard: {samples: 5}\n"
        "source: {kind: noise, model: spectrum}\n"
    )
    recipe = synthgen.load_recipe(path)
    summary = synthgen.render_corpus(recipe, str(tmp_path / "out"))
    assert (summary.nsamples, summary.nshards) == (8, 2)

    corpus = synthgen.open_corpus(str(tmp_path / "out"))
    assert corpus.complete and corpus.nsamples == 8 and corpus.manifest.recipe_sha256 == recipe.sha256
    samples = list(corpus.samples())
    assert [sample["__key__"] for sample in samples] == [f"{i:012d}" for i in range(8)]
    assert all(sample["png"][:4] == b"\x89PNG" and "view1.png" in sample for sample in samples)
    assert [json.loads(sample["json"])["index"] for sample in samples] == list(range(8))


def test_open_corpus_of_an_empty_folder_is_one_line(tmp_path: Path):
    from synthgen.errors import CorpusError

    with pytest.raises(CorpusError, match=r"no corpus here \(no manifest.json and no committed shards\)$"):
        synthgen.open_corpus(str(tmp_path))


def readme_example() -> str:
    """The python block of the docs' "Python API" page."""
    section = (REPO / "docs" / "python-api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the Python API page should hold one runnable python block"
    return blocks[0]


def test_the_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    from synthgen.shipped import SHIPPED_ROOT

    # Its recipe is a shipped one (a path in the package's folder), its output here.
    code = readme_example().replace('"recipes/', f'"{SHIPPED_ROOT}/recipes/')
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/python-api.md", "exec"), {"__name__": "readme"})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("wrote 64 samples (128 images) in 1 shard to out/api-demo")
    assert lines[1].startswith("64 ")
    assert lines[2:] == ["000000000000 (64, 64)", "000000000001 (64, 64)", "5 (64, 64, 3)"]
    assert (tmp_path / "out" / "api-demo" / "manifest.json").is_file()
