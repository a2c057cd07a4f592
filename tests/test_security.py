"""Untrusted input is refused, or read safely, wherever the project reads it: tar members (names
that climb out of the folder, links) by every corpus reader, YAML tags that construct Python objects
in every YAML the project reads, pickles that run code in every checkpoint loader, and file access
from shader programs.

The tar reader itself (every name and member type) is tested in test_tar_reader.py; here each
command and loader that reads shards is checked to refuse them too, with one line.
"""

from __future__ import annotations

import ast
import io
import os
import pickle
import re
import shutil
import tarfile
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from synthgen.cli import cli, parse_storage_options
from synthgen.corpus.push import push_corpus
from synthgen.corpus.tar import iter_tar_samples
from synthgen.errors import CorpusError, NotAllowedError
from synthgen.evaluate.datasets import load_dataset
from synthgen.permissions import Permissions
from synthgen.sources.gan.checkpoints import load_state_dict
from synthgen.train.config import load_train_config
from synthgen.train.data import SkipCounts, corpus_samples, open_corpus
from tests.test_integrity import rebless
from tests.test_train import FAST

SYNTHGEN = Path(__file__).resolve().parent.parent / "synthgen"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def one_line_error(result) -> str:
    """The error a command printed: one line, `error: ...`, last on stderr (after any progress bar),
    and exit status 2."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stderr.count("error: ") == 1, result.output
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: "), result.output
    return line


# -- tar members ---------------------------------------------------------------------------------

# name, member type, link target; each is the first member of a shard.
BAD_MEMBERS = {
    "parent": ("../evil.jpg", tarfile.REGTYPE, ""),
    "absolute": ("/abs/evil.jpg", tarfile.REGTYPE, ""),
    "climbing": ("a/../../b.jpg", tarfile.REGTYPE, ""),
    "symlink": ("000000000008.jpg", tarfile.SYMTYPE, "/etc/passwd"),
    "hardlink": ("000000000008.jpg", tarfile.LNKTYPE, "../../etc/passwd"),
}


def refusal(kind: str) -> str:
    """What every reader says about the BAD_MEMBERS of `kind`."""
    name, member_type, _ = BAD_MEMBERS[kind]
    if member_type == tarfile.REGTYPE:
        return f"unsafe or malformed member name {name!r}"
    return f"member {name!r} is not a regular file"


@pytest.fixture(params=sorted(BAD_MEMBERS))
def bad_corpus(request, shader_corpus: Path, tmp_path: Path) -> tuple[Path, str]:
    """A copy of the shader corpus whose middle shard starts with a bad member, then holds its own
    samples as they were; returns (corpus folder, kind of bad member)."""
    corpus = tmp_path / "corpora" / "corpus"
    shutil.copytree(shader_corpus, corpus)
    with open(shader_corpus / "shard-000001.tar", "rb") as stream:
        samples = list(iter_tar_samples(stream))
    name, member_type, target = BAD_MEMBERS[request.param]
    with tarfile.open(corpus / "shard-000001.tar", "w") as tar:
        bad = tarfile.TarInfo(name)
        bad.type, bad.linkname = member_type, target
        payload = b"\xff\xd8 written where it does not belong" if member_type == tarfile.REGTYPE else b""
        bad.size = len(payload)
        tar.addfile(bad, io.BytesIO(payload))
        for sample in samples:
            for field, data in sample.items():
                if field != "__key__":
                    member = tarfile.TarInfo(f"{sample['__key__']}.{field}")
                    member.size = len(data)
                    tar.addfile(member, io.BytesIO(data))
    with tarfile.open(corpus / "shard-000001.tar") as tar:  # tarfile wrote the name as given
        assert tar.getnames()[0] == name
    rebless(corpus, "shard-000001.tar")  # recorded in the manifest: every reader reads the member
    return corpus, request.param


def assert_nothing_extracted(tmp_path: Path) -> None:
    """No file of a bad member's name exists where extracting it would have put it."""
    names = {"evil.jpg", "b.jpg"}
    found = [path for path in tmp_path.rglob("*") if path.name in names]
    found += [path for path in (Path("/abs/evil.jpg"), Path.cwd().parent / "evil.jpg") if path.exists()]
    assert not found


def test_verify_names_the_shard_and_the_bad_member(bad_corpus: tuple[Path, str], tmp_path: Path):
    corpus, kind = bad_corpus
    result = invoke("verify", str(corpus))
    # verify's contract: exit status 1 and one line per damaged shard when the corpus is not whole
    # (and --repair uncommits the shard, so that the render writes it again).
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()  # the progress bar goes to stderr
    assert len(lines) == 2 and lines[0].startswith("shard-000001.tar: ") and lines[0].endswith(refusal(kind)), lines
    assert lines[-1].startswith(f"{corpus}: NOT whole: ") and lines[-1].endswith(" problems in 1 files")
    assert "Traceback" not in result.output
    repaired = invoke("verify", str(corpus), "--repair")
    assert repaired.exit_code == 1 and "uncommitted 1 shards" in repaired.stdout
    assert not (corpus / "shard-000001.json").exists() and (corpus / "shard-000000.json").exists()
    assert_nothing_extracted(tmp_path)


@pytest.mark.parametrize("command", ["inspect", "preview"])
def test_inspect_and_preview_refuse_the_shard_in_one_line(bad_corpus: tuple[Path, str], tmp_path: Path, command: str):
    corpus, kind = bad_corpus
    sheet = tmp_path / "sheet.png"
    args = (
        ["inspect", str(corpus), "--count", "0"]
        if command == "inspect"
        else ["preview", str(corpus), "--out", str(sheet)]
    )
    line = one_line_error(invoke(*args))
    assert f"{corpus}/shard-000001.tar" in line and refusal(kind) in line
    assert not sheet.exists()
    assert_nothing_extracted(tmp_path)


def test_the_training_loader_skips_the_shard_and_counts_it(bad_corpus: tuple[Path, str], tmp_path: Path, caplog):
    corpus, kind = bad_corpus
    counts = SkipCounts()
    samples = corpus_samples(open_corpus(str(corpus)), 0, 1, seed=0, counts=counts, options={}, passes=1)
    keys = sorted(sample["__key__"] for sample in samples)
    # Shards 0 and 2 are read whole; nothing of shard 1 (samples 8-15) is served.
    assert keys == [f"{i:012d}" for i in [*range(8), *range(16, 20)]]
    assert counts.bad_shards == 1 and counts.bad_samples == 0
    warning = caplog.text  # a log record of synthgen.train.data, shown by the command as `warning: ...`
    assert "shard-000001.tar" in warning and refusal(kind) in warning
    assert_nothing_extracted(tmp_path)


def test_eval_refuses_a_wds_corpus_holding_the_shard(bad_corpus: tuple[Path, str], tmp_path: Path):
    corpus, kind = bad_corpus
    with pytest.raises(CorpusError, match=re.escape(refusal(kind))):
        load_dataset(f"wds:{corpus}")
    line = one_line_error(invoke("eval", "--checkpoint", "pixels@8", "--dataset", f"wds:{corpus}", "--no-cache"))
    assert "shard shard-000001.tar" in line and refusal(kind) in line
    assert_nothing_extracted(tmp_path)


@pytest.mark.parametrize("url", ["../outside.tar", "/etc/hostname", "sub/../../outside.tar"])
def test_push_refuses_a_manifest_naming_files_outside_the_corpus(shader_corpus: Path, tmp_path: Path, url: str):
    import json

    corpus = tmp_path / "corpora" / "corpus"
    shutil.copytree(shader_corpus, corpus)
    (tmp_path / "corpora" / "outside.tar").write_bytes(b"a file of the user's, not of the corpus")
    manifest = json.loads((corpus / "manifest.json").read_text())
    manifest["shardlist"][1]["url"] = url
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    remote = tmp_path / "bucket" / "corpus"
    with pytest.raises(CorpusError, match=f"unexpected shard name {url!r}"):
        push_corpus(str(corpus), str(remote))
    line = one_line_error(invoke("push", str(corpus), str(remote)))
    assert f"unexpected shard name {url!r}" in line
    # Before the check, the push copied ../outside.tar from beside the corpus to beside the remote.
    assert not (tmp_path / "bucket" / "outside.tar").exists()
    assert not remote.exists() or not any(remote.iterdir())


# -- YAML ----------------------------------------------------------------------------------------

# Each would create the folder `marker` if a loader constructed Python objects.
PYTHON_TAGS = ["!!python/object/apply:os.mkdir [{marker}]", "!!python/name:os.mkdir"]


@pytest.mark.parametrize("tag", PYTHON_TAGS, ids=["object-apply", "name"])
def test_train_configs_and_experiment_files_with_python_tags_are_refused(shader_corpus: Path, tmp_path: Path, tag: str):
    marker = tmp_path / "marker"
    value = tag.format(marker=marker)
    config = tmp_path / "train.yaml"
    config.write_text(f"model: {value}\n")
    line = one_line_error(
        invoke("train", "--config", str(config), "--data", str(shader_corpus), "--out", str(tmp_path / "run"))
    )
    assert line.startswith(f"error: {config}: not valid YAML (line 1): could not determine a constructor")
    study = tmp_path / "study.yaml"
    study.write_text(f"name: {value}\ncorpora: []\neval: {{dataset: 'idx:x'}}\n")
    line = one_line_error(invoke("experiment", str(study), "--out", str(tmp_path / "out")))
    assert line.startswith(f"error: {study}: not valid YAML (line 1): could not determine a constructor")
    assert not marker.exists() and not (tmp_path / "run").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("tag", PYTHON_TAGS, ids=["object-apply", "name"])
def test_set_values_with_python_tags_are_refused(make_recipe, shader_corpus: Path, tmp_path: Path, tag: str):
    marker = tmp_path / "marker"
    value = tag.format(marker=marker)
    line = one_line_error(invoke("validate", str(make_recipe()), "--set", f"name={value}"))
    assert "the value is not valid YAML: could not determine a constructor" in line
    train = ["train", "--data", str(shader_corpus), "--out", str(tmp_path / "run"), "--set", f"model.arch={value}"]
    assert "the value is not valid YAML: could not determine a constructor" in one_line_error(invoke(*train))
    study = tmp_path / "study.yaml"
    study.write_text("name: s\ncorpora: [{name: a, recipe: recipe.yaml}]\neval: {dataset: 'idx:x'}\n")
    line = one_line_error(invoke("experiment", str(study), "--set", f"train.set.epochs={value}"))
    assert "the value is not valid YAML: could not determine a constructor" in line
    assert not marker.exists()


def test_storage_option_values_with_python_tags_stay_text(tmp_path: Path):
    marker = tmp_path / "marker"
    option = f"key={PYTHON_TAGS[0].format(marker=marker)}"
    assert parse_storage_options((option, "endpoint_url=http://127.0.0.1:9000", "anon=true")) == {
        "key": PYTHON_TAGS[0].format(marker=marker),
        "endpoint_url": "http://127.0.0.1:9000",
        "anon": True,
    }
    assert not marker.exists()


# -- pickled checkpoints ---------------------------------------------------------------------------


class RunsCode:
    """Unpickling this calls os.makedirs(marker, exist_ok=True): it stands for any code a pickle can run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.makedirs, (str(self.marker), 0o777, True)


def code_running_checkpoint(path: Path, marker: Path, plain_pickle: bool = False) -> Path:
    """A checkpoint that looks like a state dict, plus an entry whose unpickling runs code."""
    state = {"G_ema": {"weight": torch.ones(2)}, "step": 1, "config": {}, "model": {}, "optimizer": {}}
    state["hook"] = RunsCode(marker)
    if plain_pickle:  # stylegan2-ada's .pkl files are plain pickles
        path.write_bytes(pickle.dumps(state))
    else:
        torch.save(state, path)
    return path


def test_resuming_from_a_checkpoint_that_runs_code_is_refused(shader_corpus: Path, tmp_path: Path):
    marker = tmp_path / "marker"
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    code_running_checkpoint(run / "checkpoints" / "last.pt", marker)
    # A run folder as training leaves it (its recorded configuration), with a hostile checkpoint.
    recorded = load_train_config(None, list(FAST), [str(shader_corpus)]).resolved()
    (run / "config.yaml").write_text(yaml.safe_dump(recorded, sort_keys=False))
    args = ["train", "--data", str(shader_corpus), "--out", str(run), "--resume", "--quiet", "--epochs", "1"]
    args += [item for setting in FAST for item in ("--set", setting)]
    line = one_line_error(invoke(*args))
    assert f"{run / 'checkpoints' / 'last.pt'}: not a readable synthgen checkpoint (it holds Python objects" in line
    assert "weights_only=False" not in line  # torch's advice to run the file's code is not passed on
    assert not marker.exists()
    # A checkpoint that unpickles safely but is not a run's state: one line too, not a KeyError.
    torch.save([1, 2], run / "checkpoints" / "last.pt")
    line = one_line_error(invoke(*args))
    assert "last.pt: not a synthgen checkpoint (it has no step, config, model, optimizer)" in line


@pytest.mark.parametrize("plain_pickle", [False, True], ids=["torch-save", "pickle"])
def test_the_gan_loader_runs_no_pickle_unless_trusted(tmp_path: Path, plain_pickle: bool):
    marker = tmp_path / "marker"
    path = code_running_checkpoint(tmp_path / "generator.pkl", marker, plain_pickle)
    with pytest.raises(NotAllowedError) as caught:
        load_state_dict(str(path))
    message = str(caught.value)
    assert "\n" not in message and f"can run code; if you trust this file, pass --trust-pickle {path}" in message
    assert not marker.exists()
    # The documented trust: with the flag, the file is unpickled (its code runs) and its weights read.
    state = load_state_dict(str(path), Permissions.allowing(trust_pickle=[str(path)]))
    assert marker.is_dir() and torch.equal(state["weight"], torch.ones(2))


def test_eval_reads_safetensors_only(shader_corpus: Path, tmp_path: Path):
    marker = tmp_path / "marker"
    dataset = ["--dataset", f"wds:{shader_corpus}", "--no-cache"]
    checkpoint = code_running_checkpoint(tmp_path / "model.pt", marker)
    line = one_line_error(invoke("eval", "--checkpoint", str(checkpoint), *dataset))
    assert f"{checkpoint}: not a readable safetensors backbone" in line
    run = tmp_path / "run"  # a run folder whose backbone is a pickle in disguise
    run.mkdir()
    shutil.copy(checkpoint, run / "backbone.safetensors")
    line = one_line_error(invoke("eval", "--checkpoint", str(run), *dataset))
    assert f"{run / 'backbone.safetensors'}: not a readable safetensors backbone" in line
    assert not marker.exists()


def test_every_full_unpickling_in_synthgen_sits_behind_the_trust_flag():
    """torch.load with weights_only=True everywhere; torch.load(weights_only=False) and pickle.load
    only in the GAN loader's _unpickle, which runs for a file the user trusts (--trust-pickle) alone."""
    unsafe = []
    for path in sorted(SYNTHGEN.rglob("*.py")):
        tree = ast.parse(path.read_text())
        functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
        for function in functions:
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
                    continue
                owner = call.func.value.id if isinstance(call.func.value, ast.Name) else ""
                if (owner, call.func.attr) not in {("torch", "load"), ("pickle", "load"), ("pickle", "loads")}:
                    continue
                weights_only = {k.arg: k.value for k in call.keywords}.get("weights_only")
                safe = owner == "torch" and isinstance(weights_only, ast.Constant) and weights_only.value is True
                if not safe:
                    unsafe.append(f"{path.relative_to(SYNTHGEN)}:{function.name}")
    assert sorted(set(unsafe)) == ["sources/gan/checkpoints.py:_unpickle"]


# -- shader programs -------------------------------------------------------------------------------


@pytest.mark.gl
def test_shader_programs_cannot_include_files(tmp_path: Path):
    from synthgen.sources.shader.check import check_programs

    folder = tmp_path / "programs"
    folder.mkdir()
    body = "void mainImage(out vec4 c, in vec2 p) { c = vec4(p.x / 32.0, p.y / 32.0, 0.5, 1.0); }\n"
    (folder / "include.frag").write_text(f'#include "/etc/passwd"\n{body}')
    (folder / "extension.frag").write_text(f"#extension GL_ARB_shading_language_include : require\n{body}")
    (folder / "good.frag").write_text(body)
    results = {Path(result.source).name: result for result in check_programs([str(folder)], size=32, times=[1.0])}
    # A compile error of that one program: not a crash of the GL process, not a file read.
    assert results["include.frag"].status == "compile_error"
    assert results["include.frag"].detail == 'cannot include "/etc/passwd": a program cannot include anything'
    assert results["extension.frag"].status == "compile_error" and "#extension" in results["extension.frag"].detail
    assert results["good.frag"].ok
