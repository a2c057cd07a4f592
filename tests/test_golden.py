"""Golden tests: the bytes of generated programs and of one small corpus per family, pinned in
tests/golden/golden.json, so that a change that alters any corpus (a refactoring, a new default,
another draw order) fails here instead of passing unnoticed.

After an intended change, regenerate the file, check its diff and say so in the commit:

    SYNTHGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

A change to generated programs also needs GENERATOR_VERSION bumped (the update refuses otherwise).
Bytes depend on the software (Pillow's PNG encoder, numpy, torch, Mesa's llvmpipe): each entry
records the versions it was made with, and a test whose versions differ is skipped, naming them.
The tests of the generator version itself (no pinned bytes) are here too, without the marker.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synthgen.errors import CorpusError, RecipeError
from synthgen.recipe import Recipe, canonical_json, parse_recipe
from synthgen.render import render_corpus
from synthgen.sources.shader import generator_version

GOLDEN = Path(__file__).parent / "golden" / "golden.json"
UPDATE = os.environ.get("SYNTHGEN_UPDATE_GOLDEN") == "1"
REGENERATE = "SYNTHGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py"
# The fields of a sample's json that legitimately change with a release or an intended hash change.
VOLATILE_META = ("synthgen_version", "recipe_sha256")
# Paths under the test's temporary folder are written so, so that hashes do not depend on it.
TMP = "<tmp>"

golden = pytest.mark.golden

# The network settings tests/test_gan.py uses: a few channels, 32x32.
TINY_GAN = {"resolution": 32, "channel_base": 128, "channel_max": 8, "w_dim": 8}
# Each corpus: 8 samples in 2 shards, png (lossless: the least encoder-dependent format).
CORPORA: dict[str, dict[str, Any]] = {
    "shader-library": {"views": 2, "source": {"kind": "shader", "programs": ["library"]}},
    "shader-generated": {
        "source": {
            "kind": "shader",
            "programs": [{"generate": 4, "seed": 0}],
            "sampling": {"mode": "blocked", "block": 4},
        }
    },
    **{
        f"noise-dead_leaves-{shape}": {
            "source": {"kind": "noise", "model": "dead_leaves", "dead_leaves": {"shape": shape}}
        }
        for shape in ("squares", "oriented", "mixed")
    },
    "noise-dead_leaves-textured": {
        "source": {
            "kind": "noise",
            "model": "dead_leaves",
            "dead_leaves": {"shape": "textured"},
            "texture": {"model": "spectrum_color_wmm", "bank": 2},
            "iterations": 2,
        }
    },
    "noise-spectrum": {"views": 2, "source": {"kind": "noise", "model": "spectrum"}},
    "noise-spectrum_color": {"source": {"kind": "noise", "model": "spectrum_color", "iterations": 3}},
    "noise-wmm": {"source": {"kind": "noise", "model": "wmm", "iterations": 3}},
    "noise-spectrum_color_wmm": {"source": {"kind": "noise", "model": "spectrum_color_wmm", "iterations": 3}},
    "gan-random": {
        "views": 2,
        "image": {"size": 32},
        "source": {"kind": "gan", "init": "random", "network": TINY_GAN, "batch_size": 4},
    },
    "visualatom": {"views": 2, "image": {"size": 24}, "source": {"kind": "visualatom", "classes": 3}},
    "fractal": {
        "views": 2,
        "image": {"size": 24},
        "source": {
            "kind": "fractal",
            "mode": "fractaldb",
            "categories": 3,
            "points": 4000,
            "search": {"size": 64, "points": 4000},
        },
    },
    "diffusion": {
        "count": 4,
        "views": 2,
        "source": {
            "kind": "diffusion",
            "model": f"{TMP}/tiny-sd",
            "prompts": {"classes": ["cat", "dog"], "templates": ["a photo of a {}."]},
            "steps": 1,
            "generation_size": 32,
            "batch_size": 2,
        },
    },
}
# What each family's bytes depend on, besides synthgen.
SOFTWARE = {
    "programs": ("numpy",),
    "shader": ("numpy", "Pillow", "gl"),
    "noise": ("numpy", "torch", "Pillow"),
    "gan": ("numpy", "torch", "Pillow"),
    "visualatom": ("numpy", "torch", "Pillow"),
    "fractal": ("numpy", "torch", "Pillow"),
    "diffusion": ("numpy", "torch", "Pillow", "diffusers", "transformers"),
}


# --- the golden file --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def golden_data() -> Iterator[dict[str, Any]]:
    """tests/golden/golden.json, read once; with SYNTHGEN_UPDATE_GOLDEN=1 the tests put their
    entries in it and it is written back at the end (entries of tests not run are kept)."""
    data = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    data.setdefault("regenerate", REGENERATE)
    data.setdefault("programs", {})
    data.setdefault("corpora", {})
    before = json.dumps(data, sort_keys=True)
    yield data
    if UPDATE and json.dumps(data, sort_keys=True) != before:
        data["corpora"] = dict(sorted(data["corpora"].items()))
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(data, indent=1) + "\n")


_versions: dict[str, str] = {}


def software(family: str) -> dict[str, str]:
    """The versions of what `family`'s bytes depend on, on this machine."""
    return {name: _version(name) for name in SOFTWARE[family]}


def _version(name: str) -> str:
    if name not in _versions:
        if name == "gl":
            _versions[name] = _gl_version()
        else:
            try:
                _versions[name] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                _versions[name] = "not installed"
    return _versions[name]


def _gl_version() -> str:
    """GL_RENDERER and GL_VERSION (llvmpipe's LLVM and Mesa's versions), from a context made here."""
    from synthgen.sources.shader.gl import ShaderRenderer

    try:
        renderer = ShaderRenderer(8, 8)
    except RuntimeError as err:
        pytest.skip(f"no OpenGL: {err}")
    try:
        return f"{renderer.renderer_name}; {renderer.ctx.info.get('GL_VERSION', 'unknown')}"
    finally:
        renderer.close()


def expect(golden_data: dict[str, Any], section: str, name: str, family: str, found: dict[str, Any]) -> None:
    """Compare `found` with the golden entry (or record it, when updating); `found` holds the
    pinned values, its `software` the versions they were made with."""
    entries = golden_data[section]
    recorded = entries.get(name)
    if UPDATE:
        entries[name] = found
        return
    where = f"golden {name} ({GOLDEN.relative_to(GOLDEN.parent.parent.parent)})"
    if recorded is None:
        pytest.fail(f"{where}: no entry; record it with {REGENERATE}", pytrace=False)
    differing = [
        f"{key} {version} here, {recorded['software'].get(key)} recorded"
        for key, version in found["software"].items()
        if recorded["software"].get(key) != version
    ]
    if differing:
        pytest.skip(
            f"{where}: made with other software ({'; '.join(differing)}); "
            f"regenerate it with {REGENERATE} on the reference machine"
        )
    problems = []
    for key, value in found.items():
        if key == "software":
            continue
        if isinstance(value, dict):
            problems += _digest_problems(key.removesuffix("s"), recorded.get(key, {}), value)
        elif recorded.get(key) != value:
            problems.append(f"{key}: {_short(value)} now, {_short(recorded.get(key))} recorded")
    if problems:
        hint = "if intended, run"
        if family == "programs":
            hint = "if intended, bump GENERATOR_VERSION (synthgen/sources/shader/generator_version.py), then run"
        shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        pytest.fail(f"{where} changed: {shown}; {hint} {REGENERATE} and say so in the commit", pytrace=False)


def _short(value: Any) -> str:
    return str(value)[:12] if isinstance(value, str) and len(value) == 64 else str(value)


def _digest_problems(what: str, recorded: dict[str, str], found: dict[str, str]) -> list[str]:
    """The differences between two {name: sha256} maps (names in order)."""
    if list(recorded) != list(found):
        missing = [name for name in recorded if name not in found]
        extra = [name for name in found if name not in recorded]
        return [f"{what}s differ (missing {missing[:3]}, new {extra[:3]}, or in another order)"]
    return [
        f"{what} {name}: sha256 {found[name][:12]} now, {digest[:12]} recorded"
        for name, digest in recorded.items()
        if found[name] != digest
    ]


# --- what is pinned ---------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def without_tmp(value: Any, tmp: Path) -> Any:
    """`value` with the temporary folder's path written as TMP in every string."""
    if isinstance(value, str):
        return value.replace(str(tmp), TMP)
    if isinstance(value, dict):
        return {key: without_tmp(item, tmp) for key, item in value.items()}
    if isinstance(value, list):
        return [without_tmp(item, tmp) for item in value]
    return value


def member_digests(folder: Path, tmp: Path) -> dict[str, str]:
    """`shard/member` -> sha256 of its bytes, in tar order; a sample's json is hashed as canonical
    JSON without VOLATILE_META, its paths relative to the temporary folder."""
    digests = {}
    for shard in sorted(folder.glob("shard-*.tar")):
        with tarfile.open(shard) as tar:
            for member in tar.getmembers():
                data = tar.extractfile(member).read()  # type: ignore[union-attr]
                if member.name.endswith(".json"):
                    meta = {k: v for k, v in json.loads(data).items() if k not in VOLATILE_META}
                    data = canonical_json(without_tmp(meta, tmp))
                digests[f"{shard.name}/{member.name}"] = sha256(data)
    return digests


def corpus_recipe(name: str, tmp: Path) -> Recipe:
    changes = CORPORA[name]
    document = {
        "name": f"golden-{name}",
        "count": 8,
        "seed": 3,
        "views": 1,
        "shard": {"samples": 4},
        **changes,
        "image": {"size": 16, "format": "png", **changes.get("image", {})},
    }
    return parse_recipe(json.loads(json.dumps(document).replace(TMP, str(tmp))), base_dir=tmp)


# --- the golden tests -------------------------------------------------------------------------


@golden
def test_generated_programs_are_pinned(golden_data: dict[str, Any]):
    from synthgen.sources.shader.generator import generate_programs

    programs = generate_programs(64, seed=0)
    whole = hashlib.sha256()
    for program in programs:
        whole.update(program.id.encode() + b"\0" + program.code.encode() + b"\0")
    found = {
        "count": 64,
        "seed": 0,
        "generator_version": generator_version.GENERATOR_VERSION,
        "sha256": whole.hexdigest(),
        "programs": {programs[i].id: sha256(programs[i].code.encode()) for i in (0, 1, 17, 63)},
        "software": software("programs"),
    }
    recorded = golden_data["programs"].get("generate-64-seed-0")
    if UPDATE and recorded and recorded["software"] == found["software"]:
        # The safety net itself: new programs under the old version would let a resumed render
        # mix old and new programs in one corpus.
        changed = recorded["sha256"] != found["sha256"]
        if changed and recorded["generator_version"] == found["generator_version"]:
            pytest.fail(
                f"generated programs changed but GENERATOR_VERSION is still {found['generator_version']}: "
                "bump it in synthgen/sources/shader/generator_version.py, then update again"
            )
    expect(golden_data, "programs", "generate-64-seed-0", "programs", found)


@golden
@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=pytest.mark.gl) if name.startswith("shader") else name for name in CORPORA]
)
def test_corpus_bytes_are_pinned(name: str, golden_data: dict[str, Any], tmp_path: Path, one_torch_thread):
    family = CORPORA[name]["source"]["kind"]
    if family == "diffusion":
        pytest.importorskip("diffusers", reason="the diffusion source needs diffusers")
        pytest.importorskip("transformers", reason="the diffusion source needs transformers")
        from synthgen.sources.diffusion.tiny import make_tiny_pipeline

        make_tiny_pipeline(tmp_path / "tiny-sd")
    versions = software(family)
    recipe = corpus_recipe(name, tmp_path)
    render_corpus(recipe, str(tmp_path / "out"), workers=1)
    found = {
        # The recipe hash (of its identity: the resolved recipe, `count` left out where samples do
        # not depend on it), with paths relative to the temporary folder (equal to recipe.sha256
        # for the recipes without paths): an intended change of defaults shows here.
        "recipe_sha256": sha256(canonical_json(without_tmp(recipe.identity(), tmp_path))),
        "members": member_digests(tmp_path / "out", tmp_path),
        "software": versions,
    }
    assert len(found["members"]) >= recipe.count * (recipe.views + 1)  # images and json, at least
    expect(golden_data, "corpora", name, family, found)


# --- the generator version in the recipe --------------------------------------------------------


def shader_recipe(*programs: Any) -> Recipe:
    return parse_recipe({"name": "gen", "count": 4, "source": {"kind": "shader", "programs": list(programs)}})


def generated_recipe(**entry: Any) -> Recipe:
    return shader_recipe({"generate": 4, **entry})


def test_the_resolved_recipe_records_the_generator_version():
    resolved = generated_recipe(seed=0).resolved()["source"]["programs"][0]
    assert resolved["generator"] == generator_version.GENERATOR_VERSION == 1
    assert generated_recipe(seed=0, generator=1).sha256 == generated_recipe(seed=0).sha256
    # The generator module reads the same constant.
    from synthgen.sources.shader import generator

    assert generator.GENERATOR_VERSION is generator_version.GENERATOR_VERSION


def test_a_recipe_for_another_generator_version_is_refused_naming_the_field():
    with pytest.raises(RecipeError) as err:
        generated_recipe(seed=0, generator=2)
    assert str(err.value) == (
        "recipe: source.programs.0.generator: this synthgen generates programs with generator 1, the recipe asks for 2"
    )
    with pytest.raises(RecipeError, match=r"source\.programs\.1: `generator` goes with `generate`"):
        shader_recipe({"generate": 2}, {"builtin": "library", "generator": 1})


def test_the_recipe_hash_changes_with_the_generator_version(monkeypatch: pytest.MonkeyPatch):
    before, library_before = generated_recipe(seed=0), shader_recipe("library")
    monkeypatch.setattr(generator_version, "GENERATOR_VERSION", 2)
    after = generated_recipe(seed=0)
    assert after.resolved()["source"]["programs"][0]["generator"] == 2
    assert after.sha256 != before.sha256
    # Recipes without generated programs keep their hash.
    assert shader_recipe("library").sha256 == library_before.sha256


@pytest.mark.parametrize("made_by", ["another generator", "no generator field"])
def test_a_partial_corpus_of_other_generated_programs_is_not_resumed(
    made_by: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """A partial corpus left by a synthgen with another generator, or by one from before the
    recipe recorded the generator, is refused in one line, untouched: never resumed into."""
    document = {
        "name": "gen",
        "count": 4,
        "image": {"size": 16, "format": "png"},
        "shard": {"samples": 2},
        "source": {"kind": "shader", "programs": [{"generate": 2, "seed": 0}]},
    }
    out = tmp_path / "out"
    with monkeypatch.context() as patch:
        if made_by == "another generator":
            patch.setattr(generator_version, "GENERATOR_VERSION", 2)
        render_corpus(parse_recipe(document), str(out))
    (out / "manifest.json").unlink()
    (out / "shard-000001.tar").unlink()
    (out / "shard-000001.json").unlink()
    if made_by == "no generator field":
        resolved = parse_recipe(document).resolved()
        del resolved["source"]["programs"][0]["generator"]
        sidecar = json.loads((out / "shard-000000.json").read_text())
        sidecar["recipe_sha256"] = sha256(canonical_json(resolved))
        (out / "shard-000000.json").write_text(json.dumps(sidecar))
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    with pytest.raises(CorpusError, match="holds shards of another recipe") as err:
        render_corpus(parse_recipe(document), str(out))
    assert "\n" not in str(err.value)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
