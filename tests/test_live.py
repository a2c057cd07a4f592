"""Live training data: a recipe rendered inside the loader, sample for sample what `render` writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.corpus.tar import iter_tar_samples
from synthgen.errors import DataError
from synthgen.recipe import load_recipe
from synthgen.render import render_corpus
from synthgen.train.checkpoints import read_backbone
from synthgen.train.config import ConfigError, load_train_config
from synthgen.train.live import LIVE_PREFIX, LiveStream, live_indices, open_live
from synthgen.train.loop import train
from synthgen.train.recording import StreamRecorder

from .test_train import FAST

# FAST without the loader's worker count, which the tests choose.
FAST_SETTINGS = [setting for setting in FAST if not setting.startswith("data.workers=")]


def as_bytes(sample: dict) -> dict:
    """A sample's fields as the shard writer stores them."""
    return {k: v if isinstance(v, bytes) else str(v).encode() for k, v in sample.items() if not k.startswith("__")} | {
        "__key__": sample["__key__"]
    }


@pytest.mark.parametrize("kind", ["shader", "noise"])
def test_the_first_live_samples_equal_the_rendered_corpus_byte_for_byte(make_recipe, tmp_path: Path, kind: str):
    recipe_path = make_recipe(count=12, shard={"samples": 5}, image={"format": "jpg"})
    if kind == "noise":
        recipe_path = tmp_path / "noise.yaml"
        recipe_path.write_text(
            "name: live-noise\ncount: 12\nviews: 2\nimage: {size: 16, format: jpg}\nshard: {samples: 5}\n"
            "source: {kind: noise, model: spectrum}\n"
        )
    render_corpus(load_recipe(recipe_path), str(tmp_path / "corpus"))
    rendered = []
    for tar in sorted((tmp_path / "corpus").glob("shard-*.tar")):
        with tar.open("rb") as stream:
            rendered += [as_bytes(sample) for sample in iter_tar_samples(stream)]

    corpus = open_live(str(recipe_path))
    with LiveStream(corpus, slot=0, nslots=1, passes=1) as stream:
        live = [as_bytes(sample) for sample in stream]
    assert [s["__key__"] for s in live] == [f"{i:012d}" for i in range(12)]
    assert live == rendered
    assert corpus.has_labels == (kind == "shader")


def test_two_workers_on_two_ranks_render_disjoint_indices_that_cover_each_pass():
    per_slot = {slot: list(live_indices(slot, 4, samples_per_pass=10, passes=2)) for slot in range(4)}
    everything = [index for indices in per_slot.values() for index in indices]
    assert sorted(everything) == list(range(20))  # disjoint, and every sample of both passes
    assert per_slot[1] == [1, 5, 9, 11, 15, 19]  # pass 2 renders new samples, never pass 1's again


def test_the_loader_workers_of_two_ranks_train_on_disjoint_live_samples(tmp_path: Path):
    from synthgen.train.data import ShardStream, ViewPolicy, make_loader

    corpus = open_live(str(noise_recipe(tmp_path, count=64)))
    policy = ViewPolicy(2, True, (32, 32), False)
    keys: dict[int, list[str]] = {}
    for rank in (0, 1):
        stream = ShardStream([corpus], policy, 8, rank=rank, world_size=2, keep_live=True)
        loader = iter(make_loader(stream, workers=2))
        keys[rank] = [fields["__key__"] for _ in range(4) for _, fields in next(loader)["live"]]
    # 2 ranks x 2 workers = 4 slots; each rank's 4 batches of 8 are 32 of the pass's 64 samples.
    assert len(keys[0]) == len(keys[1]) == 32
    assert sorted(keys[0] + keys[1]) == [f"{i:012d}" for i in range(64)]
    assert {int(key) % 4 for key in keys[0]} == {0, 1} and {int(key) % 4 for key in keys[1]} == {2, 3}


@pytest.mark.slow
def test_a_live_run_of_a_few_steps_lowers_the_loss(make_recipe, tmp_path: Path, one_torch_thread: None):
    from .test_train import losses

    recipe_path = make_recipe(count=64, image={"size": 32, "format": "png"})
    config = load_train_config(
        None, ["epochs=4", "augment.preset=none", "data.live_samples=64", *FAST], [f"{LIVE_PREFIX}{recipe_path}"]
    )
    summary = train(config, tmp_path / "run")
    assert summary.finished and summary.steps == 16 and summary.bad_samples == 0
    values = losses(tmp_path / "run")
    assert sum(values[-4:]) / 4 < sum(values[4:8]) / 4, values


@pytest.mark.slow
def test_the_train_command_mixes_a_live_recipe_with_shards(make_recipe, shader_corpus: Path, tmp_path: Path):
    recipe_path = make_recipe(count=32, image={"size": 32, "format": "png"})
    result = CliRunner().invoke(
        cli,
        ["train", "--recipe", f"{recipe_path}@0.5", "--data", f"{shader_corpus}@0.5", "--live-samples", "12",
         "--out", str(tmp_path / "run"), "--quiet", "--epochs", "1", "--batch-size", "16", "--workers", "0",
         "--set", "augment.size=32", "--set", "model.stem=imagenet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # An epoch is every corpus's samples once: 12 live + 20 stored = 32, two batches of 16.
    assert "finished: 2/2 steps" in result.output
    saved = load_train_config(tmp_path / "run" / "config.yaml")
    assert [(c.url, c.weight) for c in saved.data.corpora] == [
        (str(shader_corpus), 0.5),
        (f"{LIVE_PREFIX}{recipe_path}", 0.5),
    ]


def noise_recipe(tmp_path: Path, count: int = 256, name: str = "live-noise") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"name: {name}\ncount: {count}\nviews: 2\nimage: {{size: 32, format: png}}\nshard: {{samples: 64}}\n"
        "source: {kind: noise, model: spectrum}\n"
    )
    return path


def live_config(recipe: Path | str, *extra: str, epochs: int = 2):
    return load_train_config(None, [f"epochs={epochs}", *FAST, *extra], [f"{LIVE_PREFIX}{recipe}"])


def count_renders(monkeypatch) -> list[int]:
    """Record every sample index a live stream renders in this process."""
    from synthgen.train import live

    rendered: list[int] = []
    real = live.render_samples

    def counting(recipe, source, indices, *args):
        indices = list(indices)
        rendered.extend(indices)
        return real(recipe, source, indices, *args)

    monkeypatch.setattr(live, "render_samples", counting)
    return rendered


@pytest.mark.slow
def test_a_resumed_live_run_takes_the_same_steps_and_renders_nothing_it_passes_over(
    tmp_path: Path, monkeypatch, one_torch_thread: None
):
    from .test_train import losses

    config = live_config(noise_recipe(tmp_path))
    train(config, tmp_path / "whole")
    train(config, tmp_path / "parts", stop_after=3)
    rendered = count_renders(monkeypatch)
    train(config, tmp_path / "parts", resume=True)
    assert losses(tmp_path / "parts") == losses(tmp_path / "whole")
    whole, _ = read_backbone(tmp_path / "whole" / "backbone.safetensors")
    parts, _ = read_backbone(tmp_path / "parts" / "backbone.safetensors")
    assert all(torch.equal(whole[name], parts[name]) for name in whole)
    # Steps 0-2 trained on samples 0-47 (one slot, 16 a batch): the resume renders none of them,
    # only sample 0 once more, to check the recipe renders before training starts.
    assert rendered[0] == 0 and min(rendered[1:]) == 48, rendered[:5]


@pytest.mark.slow
@pytest.mark.parametrize("workers", [0, 2])
def test_a_saved_stream_replays_the_run_exactly_without_rendering(
    tmp_path: Path, monkeypatch, one_torch_thread: None, workers: int
):
    from .test_train import losses

    recipe_path = noise_recipe(tmp_path)
    streams = tmp_path / "streams"
    common = ["--quiet", "--epochs", "2", "--workers", str(workers), *(f"--set={s}" for s in FAST_SETTINGS)]
    # Recorded in two invocations: the stop commits a part, the resume goes on; parts end with the
    # checkpoints (step 3 where the first invocation stopped, step 4 at the end of epoch 1).
    for extra in (["--stop-after", "3"], ["--resume"]):
        result = CliRunner().invoke(
            cli, ["train", "--recipe", str(recipe_path), "--save-stream", str(streams), "--out", str(tmp_path / "live"),
                  *common, *extra],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    saved = streams / "live-noise"
    parts = sorted((saved / "rank-000").glob("part-*.tar"))
    assert [p.name for p in parts] == ["part-000000000000.tar", "part-000000000003.tar", "part-000000000004.tar"]
    recorded = []
    for part in parts:
        with part.open("rb") as stream:
            recorded += list(iter_tar_samples(stream))
    assert len(recorded) == 8 * 16 and len({s["__key__"] for s in recorded}) == 8 * 16  # every sample trained on, once

    # The replay never builds a source: it reads what the live run rendered.
    def no_renderer(*_args, **_kwargs):
        raise AssertionError("the replay rendered a sample")

    monkeypatch.setattr(sys.modules["synthgen.train.live"], "build_source", no_renderer)
    result = CliRunner().invoke(cli, ["train", "--recipe", str(saved), "--out", str(tmp_path / "replay"), *common])
    assert result.exit_code == 0, result.output
    assert losses(tmp_path / "replay") == losses(tmp_path / "live")
    live, _ = read_backbone(tmp_path / "live" / "backbone.safetensors")
    replay, _ = read_backbone(tmp_path / "replay" / "backbone.safetensors")
    assert all(torch.equal(live[name], replay[name]) for name in live)


@pytest.mark.slow
def test_a_replay_with_another_layout_or_pass_length_is_refused(
    tmp_path: Path, shader_corpus: Path, one_torch_thread: None
):
    streams = tmp_path / "streams"
    train(live_config(noise_recipe(tmp_path), f"data.save_stream={streams}", epochs=1), tmp_path / "a")
    with pytest.raises(
        ConfigError, match=r"saved by 1 process\(es\) with 1 loader worker\(s\) each, this run has 1 with 2"
    ):
        train(live_config(streams / "live-noise", "data.workers=2", epochs=1), tmp_path / "b")
    with pytest.raises(DataError, match="saved with 256 live samples per pass, not 100"):
        train(live_config(streams / "live-noise", "data.live_samples=100", epochs=1), tmp_path / "c")
    stored_only = load_train_config(None, [f"data.save_stream={streams}", *FAST], [str(shader_corpus)])
    with pytest.raises(ConfigError, match="no live recipe"):
        train(stored_only, tmp_path / "d")


def test_a_resumed_recording_forgets_what_it_will_train_again(tmp_path: Path):
    corpus = open_live(str(noise_recipe(tmp_path, count=8)))
    with LiveStream(corpus, 0, 1, passes=1) as stream:
        samples = list(stream)

    def record(start_step: int, steps: dict[int, list[int]], run: str = "run-1") -> StreamRecorder:
        recorder = StreamRecorder(
            str(tmp_path / "s"), {0: corpus}, rank=0, ranks=1, workers=0, run_id=run, start_step=start_step,
            resume=start_step > 0,
        )  # fmt: skip
        for step, indices in steps.items():
            recorder.add(step, [(0, samples[i]) for i in indices])
            if step % 2 == 1:
                recorder.commit(step + 1)
        return recorder

    record(0, {0: [0], 1: [1], 2: [2], 3: [3], 4: [4]}).discard()  # parts at steps 0 and 2; step 4 lost
    folder = tmp_path / "s" / "live-noise" / "rank-000"
    assert sorted(p.name for p in folder.iterdir()) == [
        "part-000000000000.json", "part-000000000000.tar", "part-000000000002.json", "part-000000000002.tar",
    ]  # fmt: skip
    (folder / "part-000000000004.tar").write_bytes(b"an uncommitted tar")
    record(2, {})  # resuming from the checkpoint at step 2: steps 2 on are trained (and recorded) again
    assert sorted(p.name for p in folder.iterdir()) == ["part-000000000000.json", "part-000000000000.tar"]
    replayed = open_live(str(tmp_path / "s" / "live-noise")).replay.slot_reader(0, lambda index: True)
    assert replayed.take(0) == samples[0] and replayed.take(1) == samples[1] and replayed.take(2) is None
    # Another run may neither go on with this stream nor start over it: the recording stays.
    with pytest.raises(DataError, match="holds the stream of another run"):
        record(2, {}, run="run-2")
    with pytest.raises(DataError, match="already holds a saved stream"):
        record(0, {}, run="run-2")
    assert (folder / "part-000000000000.tar").is_file()


def test_the_re_render_check_stops_a_renderer_that_starts_corrupting_images(tmp_path: Path, monkeypatch):
    from synthgen.train import live

    corpus = open_live(str(noise_recipe(tmp_path, count=64)))
    rendered = count_renders(monkeypatch)
    healthy = live.LiveStream(corpus, slot=0, nslots=1, check_every=64)
    for _ in range(320):  # ten source batches of 32
        next(healthy)
    healthy.close()
    assert rendered.count(0) == 1 + 4  # sample 0 rendered first, then again after every 64 samples

    real = live.build_source

    class Corrupting:
        """A source whose images drift after its first few batches, as a GPU shared badly might."""

        def __init__(self, *args, **kwargs):
            self.inner, self.calls = real(*args, **kwargs), 0
            self.batch_size = self.inner.batch_size

        def render(self, specs):
            self.calls += 1
            results = self.inner.render(specs)
            if self.calls > 3:
                for result in results:
                    result.images[0][0, 0] ^= 0x40
            return results

        def close(self):
            self.inner.close()

    monkeypatch.setattr(live, "build_source", Corrupting)
    corrupted = live.LiveStream(corpus, slot=0, nslots=1, check_every=64)
    with pytest.raises(
        DataError, match=r"sample 0 rendered again on the CPU differs from its first render by up to 64/255"
    ):
        for _ in range(320):
            next(corrupted)


def test_a_live_stream_survives_pickling_for_spawned_workers(tmp_path: Path):
    import pickle

    from synthgen.train.data import ShardStream, ViewPolicy

    stream = ShardStream([open_live(str(noise_recipe(tmp_path, count=8)))], ViewPolicy(2, True, (32, 32), False), 4)
    copy = pickle.loads(pickle.dumps(stream))
    assert next(iter(copy))["images"].shape == next(iter(stream))["images"].shape == (4, 2, 3, 32, 32)


@pytest.mark.ddp
@pytest.mark.slow
def test_two_ddp_processes_train_live_and_save_disjoint_streams(tmp_path: Path):
    from tests.helpers import _free_port

    from .test_train import losses

    recipe_path, streams, run = noise_recipe(tmp_path), tmp_path / "streams", tmp_path / "run"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={_free_port()}",
        "-m", "synthgen", "train", "--recipe", str(recipe_path), "--save-stream", str(streams), "--out", str(run),
        "--epochs", "1", "--quiet", "--workers", "1", *(item for s in FAST_SETTINGS for item in ("--set", s)),
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(losses(run)) == 4
    keys = {}
    for rank in (0, 1):
        with (streams / "live-noise" / f"rank-00{rank}" / "part-000000000000.tar").open("rb") as stream:
            keys[rank] = [int(sample["__key__"]) for sample in iter_tar_samples(stream)]
    # 4 steps of 8 samples per rank; rank r's single loader worker is slot r of 2.
    assert len(keys[0]) == len(keys[1]) == 32
    assert {k % 2 for k in keys[0]} == {0} and {k % 2 for k in keys[1]} == {1}
    assert json.loads((streams / "live-noise" / "stream.json").read_text())["ranks"] == 2
