"""Growing a corpus: a larger count rendered into the same DEST keeps every shard the larger corpus
also holds, byte for byte, and renders only the rest (synthgen/render/driver.py); the recipe hash
leaves `count` out, so that those shards are the same bytes; the manifest's `history` says what
each render kept and rendered; a changed setting is named, not hashed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.corpus.push import push_corpus
from synthgen.corpus.verify import verify_corpus
from synthgen.errors import CorpusError
from synthgen.recipe import Recipe, canonical_json, load_recipe
from synthgen.render import driver, render_corpus

# 10 samples in shards of 4: two whole shards and a partial one (2 samples), grown to 20 (5 shards).
SMALL, LARGE, SHARD = 10, 20, 4


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("shard-*.tar"))}


def manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text())


@pytest.fixture
def grow_recipe(make_recipe):
    """The recipe at a count (views 1, so that a render takes a fraction of a second)."""

    def at(count: int, **changes: Any) -> Recipe:
        return load_recipe(make_recipe(count=count, views=1, shard={"samples": SHARD}, **changes))

    return at


def test_growing_keeps_the_whole_shards_and_equals_a_fresh_render(grow_recipe, tmp_path: Path):
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    render_corpus(grow_recipe(SMALL), str(out))
    before = digests(out)
    summary = render_corpus(grow_recipe(LARGE), str(out))
    after = digests(out)
    # Shards 0 and 1 are the larger corpus's too; shard 2 held 2 samples and now holds 4; 3 and 4 are new.
    assert [after[name] == before.get(name) for name in after] == [True, True, False, False, False]
    assert (summary.grown_from, summary.rendered_shards, summary.rendered_samples) == (SMALL, 3, LARGE - 2 * SHARD)
    assert "2 shards kept (grown from 10 samples)" in summary.line()
    render_corpus(grow_recipe(LARGE), str(fresh))
    assert after == digests(fresh)
    grown = manifest(out)
    assert grown["history"] == [
        {"count": SMALL, "synthgen_version": grown["synthgen_version"], "kept": [], "rendered": [[0, 3]]},
        {"count": LARGE, "synthgen_version": grown["synthgen_version"], "kept": [[0, 2]], "rendered": [[2, 5]]},
    ]
    # The rest of the manifest is a fresh render's: only the history tells that it grew.
    assert {k: v for k, v in grown.items() if k != "history"} == {
        k: v for k, v in manifest(fresh).items() if k != "history"
    }
    assert grown["nsamples"] == grown["recipe"]["count"] == LARGE
    assert verify_corpus(str(out)).ok
    # Rendering it again at that count has nothing to do.
    assert render_corpus(grow_recipe(LARGE), str(out)).already_complete


def test_an_interrupted_growth_stays_a_readable_corpus_and_resumes(
    grow_recipe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    out = tmp_path / "out"
    render_corpus(grow_recipe(SMALL), str(out))
    real = driver.render_shard

    def stopped_at_shard_4(recipe, dest, task, source, progress):
        if task.index == 4:
            raise KeyboardInterrupt
        return real(recipe, dest, task, source, progress)

    monkeypatch.setattr(driver, "render_shard", stopped_at_shard_4)
    with pytest.raises(KeyboardInterrupt):
        render_corpus(grow_recipe(LARGE), str(out))
    # The manifest names the whole shards only: a complete corpus of 8 samples, its history kept.
    cut = manifest(out)
    assert (cut["nsamples"], cut["recipe"]["count"], [s["url"] for s in cut["shardlist"]]) == (
        8,
        8,
        ["shard-000000.tar", "shard-000001.tar"],
    )
    assert [entry["count"] for entry in cut["history"]] == [SMALL]
    assert verify_corpus(str(out)).ok
    monkeypatch.undo()
    summary = render_corpus(grow_recipe(LARGE), str(out))
    assert (summary.grown_from, summary.rendered_shards) == (SMALL, 1)  # shards 2 and 3 were committed
    assert digests(out) == digests(Path(render_corpus(grow_recipe(LARGE), str(tmp_path / "fresh")).dest))
    history = manifest(out)["history"]
    # As an uninterrupted growth records it: what was kept from the corpus of 10, what was rendered.
    assert [(e["count"], e["kept"], e["rendered"]) for e in history] == [
        (SMALL, [], [[0, 3]]),
        (LARGE, [[0, 2]], [[2, 5]]),
    ]
    assert verify_corpus(str(out)).ok


def test_a_corpus_never_shrinks(grow_recipe, tmp_path: Path):
    out = tmp_path / "out"
    render_corpus(grow_recipe(SMALL), str(out))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(CorpusError) as err:
        render_corpus(grow_recipe(6), str(out))
    assert str(err.value) == (
        f"{out}: holds 10 samples of this recipe, more than count 6: a corpus grows but never shrinks; "
        "choose another --out, or pass --overwrite to render it again at this count"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert manifest(Path(render_corpus(grow_recipe(6), str(out), overwrite=True).dest))["nsamples"] == 6


def test_the_recipe_hash_leaves_the_count_out_except_where_samples_depend_on_it(grow_recipe):
    small, large = grow_recipe(SMALL), grow_recipe(LARGE)
    assert small.sha256 == large.sha256 and "count" not in small.identity()
    assert small.sha256 == hashlib.sha256(canonical_json(small.identity())).hexdigest()
    assert grow_recipe(SMALL, seed=8).sha256 != small.sha256
    # Blocked sampling gives each program ceil(count / programs) samples: the count is part of what sample i is.
    blocked = {"sampling": {"mode": "blocked", "block": 2}}
    assert grow_recipe(SMALL, source=blocked).sha256 != grow_recipe(LARGE, source=blocked).sha256
    assert grow_recipe(SMALL, source=blocked).identity()["count"] == SMALL


def test_a_blocked_corpus_cannot_grow_and_says_why(grow_recipe, tmp_path: Path):
    out = tmp_path / "out"
    blocked = {"sampling": {"mode": "blocked", "block": 2}}
    render_corpus(grow_recipe(SMALL, source=blocked), str(out))
    with pytest.raises(CorpusError) as err:
        render_corpus(grow_recipe(LARGE, source=blocked), str(out))
    assert str(err.value) == (
        f"{out}: holds a complete corpus of another recipe (count: 10 in DEST, 20 in this recipe, and "
        "source.sampling.mode blocked spreads the programs over the count, so a corpus of it cannot grow); "
        "choose another --out or pass --overwrite"
    )


def test_a_changed_setting_is_named_not_hashed(grow_recipe, tmp_path: Path):
    out = tmp_path / "out"
    render_corpus(grow_recipe(SMALL), str(out))
    with pytest.raises(CorpusError) as err:
        render_corpus(grow_recipe(SMALL, image={"size": 16}), str(out))
    assert str(err.value) == (
        f"{out}: holds a complete corpus of another recipe (image.size: [32, 32] in DEST, [16, 16] in this "
        "recipe); choose another --out or pass --overwrite"
    )
    many = grow_recipe(LARGE, seed=1, image={"size": 16, "quality": 50}, source={"time": {"min": 1.0}})
    with pytest.raises(
        CorpusError,
        match=r"\(count: 10 in DEST, 20 in this recipe; image\.quality: 95 in DEST, "
        r"50 in this recipe; image\.size: \[32, 32\] in DEST, \[16, 16\] in this recipe; and 2 more\)",
    ):
        render_corpus(many, str(out))
    # A corpus whose settings are this recipe's, hashed by an older rule (with its count): said so.
    older = manifest(out) | {"recipe_sha256": hashlib.sha256(canonical_json(grow_recipe(SMALL).resolved())).hexdigest()}
    (out / "manifest.json").write_text(json.dumps(older))
    with pytest.raises(
        CorpusError,
        match=r"another recipe \(the same settings, but recipe sha256 \w{12} there "
        r"\(synthgen \S+ hashed them otherwise\), \w{12} now\)",
    ):
        render_corpus(grow_recipe(SMALL), str(out))


def test_a_grown_corpus_pushes_over_its_smaller_self_and_never_back(grow_recipe, tmp_path: Path):
    small, large, remote = tmp_path / "small", tmp_path / "large", tmp_path / "remote"
    render_corpus(grow_recipe(SMALL), str(small))
    render_corpus(grow_recipe(LARGE), str(large))
    push_corpus(str(small), str(remote))
    kept = {name: (remote / name).stat().st_ino for name in ("shard-000000.tar", "shard-000001.tar")}
    summary = push_corpus(str(large), str(remote))
    # Shards 0 and 1 are not uploaded again; their sidecars are, unless their render seconds agree.
    assert 2 <= summary.skipped <= 4
    assert {name: (remote / name).stat().st_ino for name in kept} == kept
    assert (remote / "shard-000002.tar").read_bytes() == (large / "shard-000002.tar").read_bytes()
    assert manifest(remote)["nsamples"] == LARGE and verify_corpus(str(remote)).ok
    with pytest.raises(CorpusError, match=r"holds 20 samples of this recipe, this corpus 10: a push never shrinks"):
        push_corpus(str(small), str(remote))
    assert manifest(remote)["nsamples"] == LARGE


def test_growing_with_the_cli_count(make_recipe, tmp_path: Path):
    recipe, out = make_recipe(count=SMALL, views=1, shard={"samples": SHARD}), tmp_path / "out"
    assert CliRunner().invoke(cli, ["render", str(recipe), "--out", str(out), "--quiet"]).exit_code == 0
    grown = CliRunner().invoke(cli, ["render", str(recipe), "--out", str(out), "--count", "20", "--quiet"])
    assert grown.exit_code == 0, grown.output
    assert "in 5 shards" in grown.stdout and "2 shards kept (grown from 10 samples)" in grown.stdout


def test_what_trains_on_a_corpus_tells_another_count(grow_recipe, tmp_path: Path):
    """The hash no longer tells a count apart: a study's corpus and a resumed live run compare it too."""
    from types import SimpleNamespace

    from synthgen.experiment.config import ExperimentError
    from synthgen.experiment.run import _check_same_recipe
    from synthgen.train.checkpoints import CheckpointError, check_same_corpora, corpus_identity, write_corpora

    out = tmp_path / "out"
    render_corpus(grow_recipe(SMALL), str(out))
    _check_same_recipe(SimpleNamespace(folder=out, recipe=grow_recipe(SMALL)))  # the same: reused
    # Rendering would grow it, but the study's finished runs were trained on the smaller one.
    with pytest.raises(ExperimentError, match=r"rendered from other settings \(count: 10 in the folder, 20 in this"):
        _check_same_recipe(SimpleNamespace(folder=out, recipe=grow_recipe(LARGE)))
    live = SimpleNamespace(spec="live:recipe.yaml", recipe=grow_recipe(SMALL))
    write_corpora(tmp_path, [corpus_identity(live)])
    assert check_same_corpora(tmp_path, [corpus_identity(live)])
    with pytest.raises(CheckpointError, match=r"not the corpus this run started on \(count 10 then, 20 now\)"):
        check_same_corpora(tmp_path, [corpus_identity(SimpleNamespace(spec=live.spec, recipe=grow_recipe(LARGE)))])
