"""`synthgen inspect` and `synthgen preview` read every corpus spec that training reads (a corpus
folder, a brace pattern of shards, a saved stream); the contact sheet labels its samples and can
show a seeded random choice at a zoom; inspect reports the classes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from synthgen.cli import cli
from synthgen.corpus.preview import sample_label
from synthgen.corpus.read import Corpus, locate_corpus
from synthgen.recipe import load_recipe
from synthgen.render import render_corpus
from synthgen.train.data import open_corpus

# 6 samples of 3 classes (fractal categories), 16 px, in 2 shards of 3: rendered in about a second.
RECIPE = """name: tiny-classes
count: 6
views: 1
image: {size: 16, format: png}
shard: {samples: 3}
source: {kind: fractal, mode: fractaldb, categories: 3, points: 500, search: {size: 32, points: 500}}
"""


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("classes")
    (root / "recipe.yaml").write_text(RECIPE)
    render_corpus(load_recipe(root / "recipe.yaml"), str(root / "corpus"))
    return root / "corpus"


@pytest.fixture(scope="module")
def stream(corpus: Path) -> Path:
    """A saved stream, as `train --save-stream` writes it, of the corpus's samples 0-3."""
    from synthgen.train.live import open_live
    from synthgen.train.recording import StreamRecorder

    live = open_live(str(corpus.parent / "recipe.yaml"))
    recorder = StreamRecorder(str(corpus.parent / "streams"), {0: live}, rank=0, ranks=1, workers=0, run_id="r")
    samples = list(Corpus(str(corpus)).samples(4))
    recorder.add(0, [(0, sample) for sample in samples[:2]])
    recorder.commit(1)
    recorder.add(1, [(0, sample) for sample in samples[2:]])
    recorder.commit(2)
    return corpus.parent / "streams" / "tiny-classes"


def test_inspect_reads_a_pattern_and_a_saved_stream_as_train_does(corpus: Path, stream: Path):
    pattern = f"{corpus}/shard-{{000000..000001}}.tar"
    for spec, kind, nsamples, nshards in ((str(corpus), "corpus", 6, 2), (pattern, "brace pattern", 6, 2),
                                          (f"{corpus}/shard-000001.tar", "brace pattern", 3, 1),
                                          (str(stream), "saved stream", 4, 2)):  # fmt: skip
        result = invoke("inspect", spec, "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert (report["kind"], report["nsamples"], report["nshards"]) == (kind, nsamples, nshards), spec
        assert report["name"] == "tiny-classes" and report["images"]["decoded"] == nsamples
        assert report["filesize"] > 0
        # The same shards and counts as training finds.
        assert open_corpus(spec).nsamples == nsamples == locate_corpus(spec).nsamples
        text = invoke("inspect", spec).stdout
        assert f"({kind if kind != 'corpus' else 'complete'})" in text.splitlines()[0]
    assert "failures   not recorded in a saved stream" in invoke("inspect", str(stream)).stdout
    missing = invoke("inspect", f"{corpus}/shard-{{000000..000007}}.tar")
    assert missing.exit_code == 2 and "shard-000002.tar: no such shard" in missing.output


def test_inspect_reports_the_classes_of_the_samples_read(corpus: Path):
    report = json.loads(invoke("inspect", str(corpus), "--json").stdout)
    assert report["classes"] == {
        "samples": 6, "classes": 3, "min": 2, "median": 2, "max": 2, "per_class": {"0": 2, "1": 2, "2": 2},
    }  # fmt: skip
    lines = invoke("inspect", str(corpus), "--count", "4").stdout.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("classes"))
    assert lines[start] == "classes    3 in 4 samples read; per class min 1, median 1, max 2"
    assert lines[start + 1].split() == ["cls", "0", "2", "#" * 24]  # the most frequent first
    assert [line.split()[1] for line in lines[start + 1 :]] == ["0", "1", "2"]


def test_a_corpus_without_classes_has_no_class_lines(tmp_path: Path):
    recipe = tmp_path / "noise.yaml"
    recipe.write_text("name: n\ncount: 2\nimage: {size: 16, format: png}\nsource: {kind: noise, model: spectrum}\n")
    render_corpus(load_recipe(recipe), str(tmp_path / "c"))
    assert json.loads(invoke("inspect", str(tmp_path / "c"), "--json").stdout)["classes"] is None
    assert not any(line.startswith("classes") for line in invoke("inspect", str(tmp_path / "c")).stdout.splitlines())


def test_labels_name_the_sample_its_class_and_its_program_or_prompt():
    meta = {"index": 12, "program": {"id": "library/007-waves"}}
    assert sample_label({"__key__": "000000000012", "json": json.dumps(meta).encode(), "cls": b"3"}) == [
        "#12 cls 3", "library/007-waves",
    ]  # fmt: skip
    prompt = {"__key__": "000000000004", "json": b"{}", "txt": b"a photo\nof a  cat"}
    assert sample_label(prompt) == ["#4", "a photo of a cat"]  # one line, whatever the prompt holds
    assert sample_label({"__key__": "000000000004", "txt": "caf\u00e9 \u732b".encode()}) == ["#4", "caf\u00e9 ?"]


def _sheet(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_the_contact_sheet_labels_zooms_and_draws_at_random(corpus: Path, stream: Path, tmp_path: Path):
    plain, labelled = tmp_path / "plain.png", tmp_path / "labelled.png"
    assert (
        invoke("preview", str(corpus), "--out", str(plain), "--count", "4", "--no-labels", "--scale", "2").exit_code
        == 0
    )
    assert invoke("preview", str(corpus), "--out", str(labelled), "--count", "4", "--scale", "2").exit_code == 0
    bare, shown = _sheet(plain), _sheet(labelled)
    # 2 x 2 samples of 32 px (16 px zoomed 2x), with 10 px around each; labels add a strip below.
    assert bare.shape[:2] == (2 * 32 + 3 * 10, 2 * 32 + 3 * 10)
    assert shown.shape[1] == bare.shape[1] and shown.shape[0] > bare.shape[0]
    strip = shown[10 + 32 : 10 + 32 + 10, 10 : 10 + 32]  # under the first sample
    assert (strip != (32, 32, 32)).any(axis=-1).sum() > 10  # text is drawn there
    gap = shown[:, 10 + 32 : 10 + 32 + 10]  # between the two columns: the labels are clipped before it
    assert (gap == (32, 32, 32)).all()
    # Whole zoom factors copy pixels: the zoomed sheet holds the images' own values, 2x2 each.
    tile = bare[10 : 10 + 32, 10 : 10 + 32]
    assert (tile[::2, ::2] == tile[1::2, 1::2]).all()

    drawn, again, other = (tmp_path / f"{name}.png" for name in ("drawn", "again", "other"))
    for path, seed in ((drawn, "1"), (again, "1"), (other, "2")):
        result = invoke("preview", str(corpus), "--out", str(path), "--count", "2", "--random", "--seed", seed)
        assert result.exit_code == 0 and "2 samples" in result.stdout, result.output
    assert drawn.read_bytes() == again.read_bytes()  # the same seed, the same samples
    assert len({path.read_bytes() for path in (drawn, other)}) == 2  # seeds 1 and 2 draw other samples
    # A pattern and a saved stream make sheets too.
    for spec in (f"{corpus}/shard-{{000000..000001}}.tar", str(stream)):
        result = invoke("preview", spec, "--out", str(tmp_path / "s.png"), "--count", "3")
        assert result.exit_code == 0 and "3 samples" in result.stdout, result.output


def test_a_random_draw_reads_only_the_shards_it_needs(corpus: Path, monkeypatch: pytest.MonkeyPatch):
    location = locate_corpus(str(corpus))
    opened: list[str] = []
    real_open = type(location).open
    monkeypatch.setattr(type(location), "open", lambda self, url: opened.append(url) or real_open(self, url))
    keys = [sample["__key__"] for _, sample in location.located_samples(positions=[4, 1])]
    assert keys == ["000000000001", "000000000004"] and len(opened) == 2
    opened.clear()
    assert [s["__key__"] for _, s in location.located_samples(positions=[5])] == ["000000000005"]
    assert opened == [f"{corpus}/shard-000001.tar"]
