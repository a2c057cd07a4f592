"""`synthgen experiment`: a whole study (render, pretrain, evaluate, report) on two tiny corpora."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from synthgen.cli import cli
from synthgen.experiment import ExperimentError, load_experiment, run_experiment
from synthgen.experiment.report import gap_closed, markdown_table, summarise, write_plots
from synthgen.experiment.run import plan_corpora
from synthgen.recipe import load_recipe
from synthgen.render import render_corpus
from synthgen.shipped import SHIPPED_ROOT
from synthgen.train.run_record import SUMMARY


def write_stripes(root: Path, per_class: dict[str, int]) -> None:
    """Two classes a linear probe can tell apart: vertical against horizontal stripes."""
    rng = np.random.default_rng(0)
    for split, count in per_class.items():
        for label, name in enumerate(("horizontal", "vertical")):
            (root / split / name).mkdir(parents=True)
            for index in range(count):
                stripes = (np.arange(16) // 2 % 2 * 200 + rng.integers(0, 40, 16)).astype(np.uint8)
                plane = (
                    np.repeat(stripes[:, None], 16, axis=1) if label == 0 else np.repeat(stripes[None, :], 16, axis=0)
                )
                Image.fromarray(np.stack([plane] * 3, axis=-1)).save(root / split / name / f"{index:02d}.png")


def write_experiment(folder: Path, name: str = "tiny", extra: str = "") -> Path:
    write_stripes(folder / "stripes", {"train": 12, "val": 6})
    path = folder / "study.yaml"
    path.write_text(
        f"""
name: {name}
render: {{workers: 1, set: {{count: 16, image.size: 16, shard.samples: 8, views: 1}}}}
corpora:
  - {{name: shaders, recipe: {SHIPPED_ROOT}/recipes/demo-shaders.yaml}}
  - {{name: spectrum, recipe: {SHIPPED_ROOT}/recipes/noise-demo-spectrum.yaml}}
train:
  config: {SHIPPED_ROOT}/configs/small-cpu.yaml
  set: {{epochs: 1, data.batch_size: 8, data.workers: 0, augment.size: 16, method.head: {{hidden: 32, out: 16}}}}
  seeds: [0, 1]
eval: {{dataset: "imagefolder:stripes", probes: [linear, knn]}}
{extra}"""
    )
    return path


@pytest.mark.gl
@pytest.mark.slow
def test_an_experiment_with_two_tiny_corpora_runs_end_to_end_and_resumes(tmp_path: Path, one_torch_thread: None):
    study = write_experiment(tmp_path)
    out = tmp_path / "out"
    lines: list[str] = []
    results = run_experiment(load_experiment(study), out, echo=lines.append)

    assert [row["name"] for row in results["rows"]] == ["shaders", "spectrum", "random", "pixels"]
    assert results["n_train"] == 24 and results["n_val"] == 12  # the stripes, found relative to the file
    shaders, spectrum, _, _ = results["rows"]
    assert shaders["programs"] > 1 and spectrum["programs"] is None  # counted from the shader recipe
    assert shaders["images"] == 16
    for row in results["rows"]:
        # Each row's figures are its evaluation reports', averaged over the seeds.
        expected_runs = 1 if row["name"] == "pixels" else 2
        assert [run["seed"] for run in row["runs"]] == [0, 1][:expected_runs]
        top1 = []
        for run in row["runs"]:
            report = json.loads((out / "evals" / f"{row['name']}-seed{run['seed']}.json").read_text())
            assert run["metrics"]["linear_top1"] == report["linear"]["top1"]
            assert run["metrics"]["knn20_top1"] == report["knn"]["by_k"]["20"]["top1"]
            top1.append(report["linear"]["top1"])
        assert row["mean"]["linear_top1"] == pytest.approx(statistics.fmean(top1))
        assert (row["std"]["linear_top1"] is None) == (expected_runs == 1)
    for corpus in ("shaders", "spectrum"):
        assert (out / "corpora" / corpus / "manifest.json").is_file()
        for seed in (0, 1):
            run = out / "runs" / f"{corpus}-seed{seed}"
            assert json.loads((run / SUMMARY).read_text())["finished"]
            assert json.loads((run / SUMMARY).read_text())["steps"] == 2
    # Two seeds of the random baseline are two different initialisations.
    assert json.loads((out / "evals" / "random-seed0.json").read_text())["encoder"].endswith("seed0")
    assert json.loads((out / "evals" / "random-seed1.json").read_text())["encoder"].endswith("seed1")

    table = (out / "results.md").read_text()
    assert "| shaders |" in table and "| **random** |" in table and "linear top-1 vs random" in table
    assert (out / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "programs.png").exists()  # one shader corpus: nothing to scale
    assert json.loads((out / "results.json").read_text())["rows"] == json.loads(json.dumps(results["rows"]))

    # Again: nothing is rendered or trained twice, no feature is computed twice.
    backbone = out / "runs" / "shaders-seed0" / "backbone.safetensors"
    stamp = backbone.stat().st_mtime_ns
    lines.clear()
    run_experiment(load_experiment(study), out, echo=lines.append)
    assert sum("already holds this corpus complete" in line for line in lines) == 2
    assert sum("reusing the finished run" in line for line in lines) == 4
    assert backbone.stat().st_mtime_ns == stamp
    assert all(json.loads(p.read_text())["features_cached"] for p in (out / "evals").glob("*.json"))

    # A run that stopped before writing its summary is resumed, not trained again from scratch.
    (out / "runs" / "spectrum-seed1" / SUMMARY).unlink()
    lines.clear()
    run_experiment(load_experiment(study), out, echo=lines.append)
    assert sum("reusing the finished run" in line for line in lines) == 3
    assert json.loads((out / "runs" / "spectrum-seed1" / SUMMARY).read_text())["steps"] == 2

    # A changed training setup never mixes with runs trained under the old one.
    with pytest.raises(
        ExperimentError, match=r"shaders-seed0: trained with another configuration \(epochs: 1 then, 2 now\)"
    ):
        run_experiment(load_experiment(study, ["train.set.epochs=2"]), out, echo=lines.append)
    with pytest.raises(ExperimentError, match=r"corpora/shaders: rendered from other settings"):
        run_experiment(load_experiment(study, ["render.set.image.size=20"]), out, echo=lines.append)


def results_for_plots(programs: list[int | None], top1: list[list[float]]) -> dict:
    rows = []
    for index, (count, values) in enumerate(zip(programs, top1, strict=True)):
        name = ["random", "pixels"][index - len(programs) + 2] if index >= len(programs) - 2 else f"c{index}"
        runs = [
            {"seed": seed, "metrics": {"linear_top1": value, "linear_top5": 1.0}} for seed, value in enumerate(values)
        ]
        std = statistics.stdev(values) if len(values) > 1 else None
        rows.append(
            {
                "name": name,
                "kind": "baseline" if name in ("random", "pixels") else "corpus",
                "programs": count,
                "images": None if count is None else 100,
                "runs": runs,
                "mean": {"linear_top1": statistics.fmean(values), "linear_top5": 1.0},
                "std": {"linear_top1": std, "linear_top5": None if std is None else 0.0},
            }
        )
    protocols = [{"probes": ["linear"], "labels_per_class": None}]
    return {"experiment": "scaling", "dataset": "idx:/data/fashion-mnist", "rows": rows, "protocols": protocols,
            "headline": "linear_top1"}  # fmt: skip


def test_the_table_compares_with_random_and_the_programs_plot_needs_two_counts(tmp_path: Path):
    results = results_for_plots([1, 16, 256, None, None], [[0.5, 0.6], [0.7, 0.7], [0.8, 0.9], [0.6, 0.62], [0.75]])
    table = markdown_table(results)
    # Top-5 stays in results.json: on ten classes it is near 100% for every encoder.
    assert "| c0 | 1 | 100 | 55.0 ± 7.1 | -6.0 |" in table
    assert "| c2 | 256 | 100 | 85.0 ± 7.1 | +24.0 |" in table
    assert "| **random** |  |  | 61.0 ± 1.4 |  |" in table
    assert "| **pixels** |  |  | 75.0 | +14.0 |" in table
    written = write_plots(results, tmp_path, echo=lambda line: None)
    assert [path.name for path in written] == ["accuracy.png", "programs.png"]
    assert all(path.read_bytes()[:4] == b"\x89PNG" for path in written)

    same = results_for_plots([16, 16, None, None], [[0.5], [0.6], [0.6], [0.7]])
    (tmp_path / "same").mkdir()
    assert [path.name for path in write_plots(same, tmp_path / "same", echo=lambda line: None)] == ["accuracy.png"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("colour: blue", "colour: unknown key"),
        ("baselines: [random, noise]", "baselines.1: "),
        ("eval: {dataset: 'idx:x', probes: [svm]}", "eval.probes.0: "),
    ],
)
def test_bad_experiment_files_name_the_field(tmp_path: Path, extra: str, message: str):
    study = write_experiment(tmp_path, extra=extra)
    if extra.startswith("eval"):
        study.write_text(
            study.read_text().replace('eval: {dataset: "imagefolder:stripes", probes: [linear, knn]}\n', "")
        )
    with pytest.raises(ExperimentError, match=message):
        load_experiment(study)


def test_experiment_cli_errors_are_one_line(tmp_path: Path):
    study = write_experiment(tmp_path)
    text = study.read_text()
    study.write_text(text.replace("name: spectrum", "name: shaders"))
    result = CliRunner().invoke(cli, ["experiment", str(study)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {study}: corpora: the corpus name 'shaders' is used twice"]

    study.write_text(text.replace("noise-demo-spectrum.yaml", "no-such-recipe.yaml"))
    result = CliRunner().invoke(cli, ["experiment", str(study)])
    assert result.exit_code == 2 and "corpora.1.recipe: no such file or directory" in result.output

    study.write_text(text.replace("name: spectrum", "name: random"))
    result = CliRunner().invoke(cli, ["experiment", str(study)])
    assert "the corpus name 'random' is a baseline's" in result.output

    # A recipe setting that does not fit the recipe is caught before anything is rendered.
    study.write_text(text.replace("views: 1}", "views: 1, image.colour: red}"))
    result = CliRunner().invoke(cli, ["experiment", str(study), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "image.colour: unknown key" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_shipped_experiments_are_valid(tmp_path: Path):
    shipped = sorted((SHIPPED_ROOT / "recipes" / "experiments").glob("*.yaml"))
    assert {path.stem for path in shipped} >= {"families", "families-quick", "program-scaling"}
    for path in shipped:
        # Every recipe with its settings, and every training config, validates.
        planned = plan_corpora(load_experiment(path), tmp_path)
        assert planned and all(corpus.configs for corpus in planned), path
    scaling = plan_corpora(load_experiment(SHIPPED_ROOT / "recipes" / "experiments" / "program-scaling.yaml"), tmp_path)
    assert [corpus.programs for corpus in scaling if not corpus.control] == [1, 16, 256]
    # The same number of images in every corpus, the real-data control's included.
    assert [corpus.name for corpus in scaling if corpus.control] == ["real"]
    assert len({corpus.recipe.count * corpus.recipe.views for corpus in scaling}) == 1


def test_a_nested_setting_changes_one_key_and_keeps_the_rest(tmp_path: Path):
    study = write_experiment(tmp_path)
    plain = plan_corpora(load_experiment(study), tmp_path)[0].recipe
    changed = plan_corpora(load_experiment(study, ["render.set.image.size=24"]), tmp_path)[0].recipe
    assert plain.image.size == (16, 16) and changed.image.size == (24, 24)
    assert changed.image.quality == plain.image.quality == 90  # the recipe's own, not the default 95
    nested = plan_corpora(load_experiment(study, ["corpora.0.set={image: {size: 40}}"]), tmp_path)[0].recipe
    assert nested.image.size == (40, 40) and nested.image.quality == 90


def _row(name: str, kind: str, by_seed: dict[int, dict[str, float]]) -> dict:
    runs = [{"seed": seed, "metrics": metrics} for seed, metrics in by_seed.items()]
    return {"name": name, "kind": kind, "runs": runs, **summarise(runs)}


def test_gap_closed_is_the_share_of_the_random_to_real_gap_per_seed():
    random = _row("random", "baseline", {0: {"linear_top1": 0.70}, 1: {"linear_top1": 0.72}})
    real = _row("real", "control", {0: {"linear_top1": 0.80}, 1: {"linear_top1": 0.82}})
    half = _row("shaders", "corpus", {0: {"linear_top1": 0.75}, 1: {"linear_top1": 0.795}})
    rows = [half, real, random]
    gap = gap_closed(half, rows, "linear_top1")
    # Seed 0 closes (0.75 - 0.70) / (0.80 - 0.70) = 50%, seed 1 (0.795 - 0.72) / (0.82 - 0.72) = 75%.
    assert gap is not None and gap["paired"]
    assert gap["mean"] == pytest.approx(0.625) and gap["std"] == pytest.approx(statistics.stdev([0.5, 0.75]))
    # The control itself closes all of it, random none; worse than random is negative.
    assert gap_closed(real, rows, "linear_top1")["mean"] == pytest.approx(1.0)
    assert gap_closed(random, rows, "linear_top1")["mean"] == pytest.approx(0.0)
    worse = _row("noise", "corpus", {0: {"linear_top1": 0.65}, 1: {"linear_top1": 0.67}})
    assert gap_closed(worse, [worse, *rows], "linear_top1")["mean"] == pytest.approx(-0.5)
    # Without seeds in common, the means: (0.7725 - 0.71) / (0.81 - 0.71).
    unpaired = _row("gan", "corpus", {5: {"linear_top1": 0.76}, 6: {"linear_top1": 0.785}})
    gap = gap_closed(unpaired, [unpaired, *rows], "linear_top1")
    assert not gap["paired"] and gap["std"] is None and gap["mean"] == pytest.approx(0.625)
    # No control, or a control that does not beat random: no gap to close.
    assert gap_closed(half, [half, random], "linear_top1") is None
    flat = _row("real", "control", {0: {"linear_top1": 0.70}, 1: {"linear_top1": 0.71}})
    assert gap_closed(half, [half, flat, random], "linear_top1") is None


def test_the_table_shows_each_protocol_and_the_gap_closed(tmp_path: Path):
    metrics = {0: (0.70, 0.60), 1: (0.72, 0.62)}
    random = _row("random", "baseline", {s: {"linear_top1": a, "linear_top1@10": b} for s, (a, b) in metrics.items()})
    real = _row("real", "control", {s: {"linear_top1": a + 0.1, "linear_top1@10": b + 0.2} for s, (a, b) in metrics.items()})
    corpus = _row("shaders", "corpus", {s: {"linear_top1": a, "linear_top1@10": b + 0.1} for s, (a, b) in metrics.items()})
    rows = [corpus, real, random]
    corpus["gap_closed"] = {key: gap_closed(corpus, rows, key) for key in corpus["mean"]}
    protocols = [{"probes": ["linear"], "labels_per_class": None}, {"probes": ["linear"], "labels_per_class": 10}]
    results = {"rows": rows, "protocols": protocols, "headline": "linear_top1@10"}
    table = markdown_table(results).splitlines()
    assert table[0] == "|  | programs | images | linear top-1 | linear top-1, 10/class | linear top-1, 10/class vs random | gap closed |"
    assert table[2] == "| shaders |  |  | 71.0 ± 1.4 | 71.0 ± 1.4 | +10.0 | 50.0 ± 0.0 |"
    assert table[3].startswith("| **real** |") and table[3].endswith("| +20.0 |  |")


@pytest.mark.gl
@pytest.mark.slow
def test_a_study_with_a_real_data_control_and_two_protocols_reports_the_gap_closed(
    tmp_path: Path, one_torch_thread: None
):
    protocols = """eval:
  dataset: "imagefolder:stripes"
  protocols:
    - {probes: [linear, knn]}
    - {probes: [linear, finetune], labels_per_class: 3, finetune: {epochs: 1, batch_size: 4}}
  headline: linear_top1@3
"""
    study = write_experiment(tmp_path, extra=protocols)
    text = study.read_text().replace('eval: {dataset: "imagefolder:stripes", probes: [linear, knn]}\n', "")
    study.write_text(text.replace("corpora:\n", "corpora:\n  - {name: real, dataset: 'imagefolder:stripes'}\n"))
    out = tmp_path / "out"
    results = run_experiment(load_experiment(study), out, echo=lambda line: None)

    rows = {row["name"]: row for row in results["rows"]}
    assert [row["kind"] for row in results["rows"]] == ["control", "corpus", "corpus", "baseline", "baseline"]
    manifest = json.loads((out / "corpora" / "real" / "manifest.json").read_text())
    # The control is as large as the synthetic corpora (render.set.count: 16 of the 24 train images).
    assert manifest["recipe"]["source"]["kind"] == "dataset" and manifest["recipe"]["count"] == 16
    assert manifest["recipe"]["source"]["split"] == "train" and rows["real"]["images"] == 16
    for name in ("real", "shaders", "random"):
        assert {"linear_top1", "knn20_top1", "linear_top1@3", "finetune_top1@3"} <= set(rows[name]["mean"])
    # Pixels have no weights to fine-tune: only the frozen probes.
    assert "finetune_top1@3" not in rows["pixels"]["mean"] and "linear_top1@3" in rows["pixels"]["mean"]
    few = json.loads((out / "evals" / "shaders-seed0@3.json").read_text())
    assert few["n_train"] == 6 and few["protocol"]["labels_per_class"] == 3 and few["finetune"]["settings"]["epochs"] == 1
    for name in ("shaders", "spectrum"):
        assert rows[name]["gap_closed"]["linear_top1@3"] == gap_closed(rows[name], results["rows"], "linear_top1@3")
    assert results["headline"] == "linear_top1@3"
    table = (out / "results.md").read_text()
    assert "gap closed" in table and "linear top-1, 3/class" in table and "linear, finetune on 3 labelled images per class" in table


def test_a_study_checks_its_evaluation_data_before_rendering_anything(tmp_path: Path):
    study = write_experiment(tmp_path)
    missing = load_experiment(study, ["eval.dataset=imagefolder:nowhere"])
    with pytest.raises(ExperimentError, match=r"^eval.dataset: .*nowhere"):
        run_experiment(missing, tmp_path / "out", echo=lambda line: None)
    too_many = load_experiment(study, ["eval.protocols=[{probes: [linear], labels_per_class: 13}]"])
    with pytest.raises(ExperimentError, match=r"^eval.protocols: labels_per_class 13: .*holds only 12"):
        run_experiment(too_many, tmp_path / "out", echo=lambda line: None)
    assert not (tmp_path / "out" / "corpora").exists()
    with pytest.raises(ExperimentError, match=r"headline: 'finetune_top1' is not measured"):
        load_experiment(study, ["eval.headline=finetune_top1"])
    with pytest.raises(ExperimentError, match=r"exactly one of `recipe`"):
        load_experiment(study, ["corpora.0.dataset=idx:x"])


def test_every_input_of_a_study_is_checked_before_anything_is_rendered(tmp_path: Path):
    """A misspelt monitor dataset (read only when a run starts), an output folder that cannot be
    written, a corpus folder of other settings: each fails in one line before the first render."""
    study = write_experiment(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["experiment", str(study), "--out", str(out), "--set", "train.set.eval.monitor.dataset=idx:/no/such"]
    )
    assert result.exit_code == 2 and result.stderr.startswith("error: train: eval.monitor.dataset: idx:/no/such: ")
    assert not out.exists()
    (tmp_path / "a-file").write_text("")
    result = CliRunner().invoke(cli, ["experiment", str(study), "--out", str(tmp_path / "a-file" / "out")])
    assert result.exit_code == 2
    blocked = tmp_path / "a-file" / "out"
    assert result.stderr == f"error: {blocked}: cannot write the study's results there: Not a directory\n"
    # The second corpus's folder holds another recipe's corpus: the first is not rendered either.
    other = load_recipe(SHIPPED_ROOT / "recipes" / "noise-demo-spectrum.yaml", count=4, settings={"image.size": 16})
    render_corpus(other, str(out / "corpora" / "spectrum"))
    with pytest.raises(ExperimentError, match=r"corpora/spectrum: rendered from other settings"):
        run_experiment(load_experiment(study), out, echo=lambda line: None)
    assert not (out / "corpora" / "shaders").exists()


def test_a_corpus_may_train_with_its_own_method_but_not_its_own_network(tmp_path: Path):
    """A formula-driven corpus is pretrained with `supervised` on its categories while the other
    rows keep the study's method; the network stays the study's, so that every row is compared
    with the same untrained one."""
    study = write_experiment(tmp_path)
    supervised = "corpora.1.train={method: {name: supervised, classes: 4}}"
    shaders, spectrum = plan_corpora(load_experiment(study, [supervised]), tmp_path)
    assert {config.method.name for config in shaders.configs.values()} == {"simclr"}
    assert {config.method.name for config in spectrum.configs.values()} == {"supervised"}
    assert [config.seed for config in spectrum.configs.values()] == [0, 1]
    assert spectrum.configs[0].epochs == shaders.configs[0].epochs == 1  # the study's settings still apply
    flag = r"^--set 'corpora\.1\.train=\{model: \{width: 8\}\}': "
    with pytest.raises(ExperimentError, match=flag + r"model\.width is the study's"):
        load_experiment(study, ["corpora.1.train={model: {width: 8}}"])
