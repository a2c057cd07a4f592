"""Code and trust come from the user, never from a recipe (synthgen/permissions.py; docs/security.md,
"Security model"): a recipe naming a generator factory, or a checkpoint that only full unpickling
reads, runs only where the command line (`--allow-code`, `--trust-pickle`) or the environment
allows it; otherwise one line says what the recipe asks and how to allow it. Each refusal is
checked to have run nothing: the factories and pickles here leave a marker when their code runs."""

from __future__ import annotations

import hashlib
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from synthgen.errors import NotAllowedError
from synthgen.permissions import (
    ALLOW_CODE_ENV,
    TRUST_PICKLE_ENV,
    Permissions,
    check_code_allowed,
    granting,
    load_permissions,
)
from synthgen.recipe import load_recipe, parse_recipe
from synthgen.render import render_corpus
from synthgen.shipped import SHIPPED_ROOT
from synthgen.sources.gan.source import GanSource
from synthgen.sources.gan.stylegan2 import Architecture, StyleGAN2Generator, init_weights

from .test_security import RunsCode, invoke, one_line_error
from .test_train import FAST

FACTORY = "tests.gan_factories:tiny_conditional"
# The network of the checkpoints here: a few channels, 32x32 (as tests/test_gan.py's TINY).
TINY = {"resolution": 32, "channel_base": 128, "channel_max": 8, "w_dim": 8, "z_dim": 8, "mapping_layers": 2}


@pytest.fixture(autouse=True)
def no_permission_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own SYNTHGEN_ALLOW_CODE must not make a refusal pass unseen."""
    monkeypatch.delenv(ALLOW_CODE_ENV, raising=False)
    monkeypatch.delenv(TRUST_PICKLE_ENV, raising=False)


def write_recipe(folder: Path, source: dict[str, Any], name: str = "recipe.yaml", **top: Any) -> Path:
    document = {"name": "perm", "count": 4, "image": {"size": 32, "format": "png"}, "shard": {"samples": 2}, **top}
    path = folder / name
    path.write_text(yaml.safe_dump({**document, "source": {"kind": "gan", "batch_size": 2, **source}}))
    return path


def system_recipe(folder: Path, marker: Path) -> Path:
    """The recipe of the report: `os:system` runs a shell command when the factory is called."""
    return write_recipe(folder, {"generator": "os:system", "generator_kwargs": {"command": f"touch {marker}"}})


def marking_module(folder: Path, marker: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A factory module on sys.path whose import leaves `marker`: its top-level code is code a
    recipe naming it runs, before any function is called."""
    name = f"marking_{hashlib.sha256(str(folder).encode()).hexdigest()[:12]}"
    (folder / f"{name}.py").write_text(
        textwrap.dedent(f"""
            from pathlib import Path

            from tests.gan_factories import tiny_conditional

            Path({str(marker)!r}).mkdir()
            factory = tiny_conditional
        """)
    )
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


TRAIN = ["--quiet", "--stop-after", "1", *(item for setting in FAST for item in ("--set", setting))]


def command(name: str, recipe: Path, tmp_path: Path) -> list[str]:
    """The command line that renders `recipe`: render, validate or train live."""
    if name == "render":
        return ["render", str(recipe), "--out", str(tmp_path / "out"), "--quiet"]
    if name == "validate":
        return ["validate", str(recipe)]
    return ["train", "--recipe", str(recipe), "--out", str(tmp_path / "run"), "--live-samples", "16", *TRAIN]


# --- S1: a recipe runs code only where the user allows its module ----------------------------------


@pytest.mark.parametrize("name", ["render", "validate", "train"])
def test_a_recipe_naming_a_factory_runs_nothing_without_allow_code(name: str, tmp_path: Path):
    marker = tmp_path / "ran"
    recipe = system_recipe(tmp_path, marker)
    line = one_line_error(invoke(*command(name, recipe, tmp_path)))
    assert line == (
        f"error: {recipe}: source.generator: the recipe runs code from module 'os' (os:system); "
        f"allow it with --allow-code os (or {ALLOW_CODE_ENV}=os)"
    )
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_the_module_is_not_even_imported_until_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    marker = tmp_path / "imported"
    module = marking_module(tmp_path, marker, monkeypatch)
    recipe = write_recipe(tmp_path, {"generator": f"{module}:factory"})
    line = one_line_error(invoke("validate", str(recipe), "--allow-code", "tests"))  # another module allowed
    assert f"runs code from module {module!r} ({module}:factory); allow it with --allow-code {module}" in line
    assert not marker.exists() and module not in sys.modules
    result = invoke("validate", str(recipe), "--allow-code", module)
    assert result.exit_code == 0, result.output
    assert marker.is_dir()  # allowed: imported (and so run), as the user asked
    assert result.output.rstrip().endswith(
        f"source.generator: runs code from module {module!r} ({module}:factory): allowed"
    )


def test_allow_code_takes_the_package_or_the_module_and_the_render_runs_in_workers(tmp_path: Path):
    recipe = write_recipe(tmp_path, {"generator": FACTORY})
    for allowed in ("tests", "tests.gan_factories"):
        result = invoke("validate", str(recipe), "--allow-code", allowed)
        assert result.exit_code == 0 and result.output.rstrip().endswith(f"({FACTORY}): allowed"), result.output
    # A package whose name merely starts like the module's is not it.
    line = one_line_error(invoke("validate", str(recipe), "--allow-code", "test"))
    assert "allow it with --allow-code tests.gan_factories" in line
    # Two spawned workers, which see neither the flag nor this process's state: what they are
    # allowed travels with the shard task.
    out = tmp_path / "out"
    result = invoke("render", str(recipe), "--out", str(out), "--workers", "2", "--allow-code", "tests", "--quiet")
    assert result.exit_code == 0, result.output
    assert json.loads((out / "manifest.json").read_text())["nsamples"] == 4


def test_the_environment_variable_allows_code_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    recipe = write_recipe(tmp_path, {"generator": FACTORY})
    monkeypatch.setenv(ALLOW_CODE_ENV, "mygens, tests")
    result = invoke("render", str(recipe), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "manifest.json").is_file()
    monkeypatch.setenv(ALLOW_CODE_ENV, "tests;rm")
    line = one_line_error(invoke("validate", str(recipe)))
    assert (
        line
        == f"error: {ALLOW_CODE_ENV} 'tests;rm': expected a module or package name, such as mygens or mygens.biggan"
    )


def test_set_cannot_swap_in_code_that_was_not_allowed(tmp_path: Path):
    marker = tmp_path / "ran"
    recipe = write_recipe(tmp_path, {"generator": FACTORY})
    args = [
        "--allow-code",
        "tests",
        "--set",
        "source.generator=os:system",
        "--set",
        f"source.generator_kwargs.command=touch {marker}",
    ]
    line = one_line_error(invoke("render", str(recipe), "--out", str(tmp_path / "out"), *args))
    assert "source.generator: the recipe runs code from module 'os' (os:system)" in line
    assert not marker.exists()


def test_live_training_runs_an_allowed_factory(tmp_path: Path):
    recipe = write_recipe(tmp_path, {"generator": FACTORY})
    result = invoke(*command("train", recipe, tmp_path), "--allow-code", "tests")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "summary.json").is_file()


def test_an_experiment_checks_every_recipe_before_rendering(tmp_path: Path):
    from .test_experiment import write_stripes

    write_stripes(tmp_path / "stripes", {"train": 4, "val": 2})
    recipe = write_recipe(tmp_path, {"generator": FACTORY})
    study = tmp_path / "study.yaml"
    study.write_text(
        yaml.safe_dump(
            {
                "name": "perm",
                "render": {"workers": 1, "set": {"count": 4, "image.size": 16}},
                "corpora": [{"name": "factory", "recipe": str(recipe)}],
                "train": {"config": str(SHIPPED_ROOT / "configs" / "small-cpu.yaml")},
                "eval": {"dataset": "imagefolder:stripes", "probes": ["knn"]},
            }
        )
    )
    out = tmp_path / "study"
    line = one_line_error(invoke("experiment", str(study), "--out", str(out)))
    assert f"{recipe}: source.generator: the recipe runs code from module 'tests.gan_factories'" in line
    # The study's --set reaches the recipe, and is checked as the recipe is.
    marker = tmp_path / "ran"
    swapped = f"corpora.0.set={{source.generator: 'os:system', source.generator_kwargs: {{command: touch {marker}}}}}"
    line = one_line_error(
        invoke("experiment", str(study), "--out", str(out), "--allow-code", "tests", "--set", swapped)
    )
    assert "runs code from module 'os' (os:system); allow it with --allow-code os" in line
    assert not marker.exists() and not (out / "corpora").exists()


def test_the_python_api_allows_nothing_by_default(tmp_path: Path):
    recipe = load_recipe(write_recipe(tmp_path, {"generator": FACTORY}))
    with pytest.raises(NotAllowedError, match="recipe perm: source.generator: the recipe runs code from module"):
        render_corpus(recipe, str(tmp_path / "out"))
    with pytest.raises(NotAllowedError):
        GanSource.check(recipe)  # the pre-render check imports the factory: not before it is allowed
    allowed = Permissions.allowing(allow_code=["tests"])
    with granting(allowed):
        GanSource.check(recipe)
    summary = render_corpus(recipe, str(tmp_path / "out"), permissions=allowed)
    assert summary.nsamples == 4 and not summary.failures


def test_the_permissions_of_flags_and_environment_add_up(tmp_path: Path):
    digest = "AB" * 32
    permissions = load_permissions(
        ["mygens.biggan"], ["g.pkl"], environ={ALLOW_CODE_ENV: "tests,", TRUST_PICKLE_ENV: f"{digest}, /x/h.pkl"}
    )
    assert permissions.allow_code == {"tests", "mygens.biggan"}
    assert permissions.trusted_sha256 == {digest.lower()}
    assert permissions.trusted_files == {str(Path("g.pkl").resolve()), "/x/h.pkl"}
    assert permissions.allows_module("tests.gan_factories") and permissions.allows_module("mygens.biggan")
    assert not permissions.allows_module("mygens") and not permissions.allows_module("testsuite")
    recipe = parse_recipe({"name": "r", "count": 1, "source": {"kind": "gan", "generator": "mygens.other:f"}})
    with pytest.raises(NotAllowedError, match="allow it with --allow-code mygens.other"):
        check_code_allowed(recipe, permissions)


# --- S2: trust in a pickle is the user's, never the recipe's ----------------------------------------


def test_trust_pickle_in_a_recipe_is_an_error_saying_where_it_went(tmp_path: Path):
    recipe = write_recipe(tmp_path, {"checkpoint": "g.pkl", "trust_pickle": True, "network": TINY})
    for args in (["validate", str(recipe)], ["render", str(recipe), "--out", str(tmp_path / "out")]):
        line = one_line_error(invoke(*args))
        assert line == (
            f"error: {recipe}: source.trust_pickle: "
            "trust is given on the command line now: --trust-pickle FILE_OR_SHA256"
        )
    assert not (tmp_path / "out").exists()


def tiny_state() -> dict[str, torch.Tensor]:
    net = StyleGAN2Generator(Architecture(**TINY))
    init_weights(net, torch.Generator().manual_seed(3))
    return {key: value.contiguous() for key, value in net.state_dict().items()}


def test_a_pickle_checkpoint_is_unpickled_only_when_trusted_by_path_or_sha256(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    marker = tmp_path / "unpickled"
    checkpoint = tmp_path / "g.pt"
    # A state dict the weights-only loader refuses: one entry is an object only full unpickling makes.
    torch.save({"G_ema": tiny_state(), "hook": RunsCode(marker)}, checkpoint)
    recipe = write_recipe(tmp_path, {"checkpoint": "g.pt", "network": TINY})
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()

    line = one_line_error(invoke("render", str(recipe), "--out", str(tmp_path / "refused"), "--quiet"))
    assert line == (
        f"error: source.checkpoint: {checkpoint} is a pickle that only full unpickling reads, which can run code; "
        f"if you trust this file, pass --trust-pickle {checkpoint} (or its sha256, {digest})"
    )
    assert not marker.exists()
    # Another file's trust is not this one's.
    other = one_line_error(invoke("render", str(recipe), "--out", str(tmp_path / "refused"), "--trust-pickle", "x.pt"))
    assert "is a pickle that only full unpickling reads" in other and not marker.exists()

    monkeypatch.chdir(tmp_path)  # a relative path is the file in the current folder
    for index, trust in enumerate(["g.pt", digest.upper()]):
        out = tmp_path / f"out{index}"
        result = invoke("render", str(recipe), "--out", str(out), "--trust-pickle", trust, "--quiet")
        assert result.exit_code == 0, result.output
        assert (out / "manifest.json").is_file() and marker.is_dir()  # trusted: unpickled, its code ran
        marker.rmdir()
    validated = invoke("validate", str(recipe), "--trust-pickle", digest)
    assert validated.output.rstrip().endswith("full unpickling trusted")


def test_a_safetensors_checkpoint_needs_no_permission(tmp_path: Path):
    from safetensors.torch import save_file

    save_file(tiny_state(), str(tmp_path / "g.safetensors"))
    recipe = write_recipe(tmp_path, {"checkpoint": "g.safetensors", "network": TINY})
    result = invoke("render", str(recipe), "--out", str(tmp_path / "out"), "--quiet")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["nsamples"] == 4
