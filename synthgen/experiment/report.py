"""An experiment's results as a markdown table and two plots (accuracy per corpus; accuracy
against the number of shader programs)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Metric keys in the order the table shows them.
METRIC_LABELS = {
    "linear_top1": "linear top-1",
    "linear_top5": "linear top-5",
    "knn20_top1": "kNN-20 top-1",
    "knn200_top1": "kNN-200 top-1",
}


def metrics_of(report: dict[str, Any]) -> dict[str, float]:
    """The accuracies of one `synthgen eval` report, flat: linear_top1, knn20_top1, ..."""
    metrics = {}
    if "linear" in report:
        metrics["linear_top1"] = report["linear"]["top1"]
        metrics["linear_top5"] = report["linear"]["top5"]
    for k, result in report.get("knn", {}).get("by_k", {}).items():
        metrics[f"knn{k}_top1"] = result["top1"]
    return metrics


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and sample standard deviation (None for one run) of each metric over runs."""
    keys = runs[0]["metrics"].keys()
    values = {key: [run["metrics"][key] for run in runs] for key in keys}
    return {
        "mean": {key: statistics.fmean(v) for key, v in values.items()},
        "std": {key: statistics.stdev(v) if len(v) > 1 else None for key, v in values.items()},
    }


def headline_metric(results: dict[str, Any]) -> str:
    """The metric the plots and the `vs random` column use: linear top-1 when it was measured."""
    keys = results["rows"][0]["mean"]
    return "linear_top1" if "linear_top1" in keys else next(iter(keys))


def markdown_table(results: dict[str, Any]) -> str:
    rows = results["rows"]
    metrics = [key for key in METRIC_LABELS if key in rows[0]["mean"]]
    headline = headline_metric(results)
    random = next((row for row in rows if row["name"] == "random"), None)
    header = ["", "programs", "images", *(METRIC_LABELS[key] for key in metrics)]
    if random is not None:
        header.append(f"{METRIC_LABELS[headline]} vs random")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [
            f"**{row['name']}**" if row["kind"] == "baseline" else row["name"],
            str(row.get("programs") or ""),
            f"{row['images']:,}" if row.get("images") else "",
            *(_percent(row["mean"][key], row["std"][key]) for key in metrics),
        ]
        if random is not None:
            delta = 100 * (row["mean"][headline] - random["mean"][headline])
            cells.append("" if row is random else f"{delta:+.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_tables(results: dict[str, Any], out: Path) -> str:
    """Write results.md (a heading naming the setup, then the table); returns the table."""
    table = markdown_table(results)
    seeds = results["settings"]["train"]["seeds"]
    machine = results["machine"]
    on = machine.get("gpu") or f"{machine['cpus']} CPUs"
    lines = [
        f"# {results['experiment']}",
        "",
        f"Pretraining: {results['arch']} at {results['image_size']}x{results['image_size']}, "
        f"{len(seeds)} seed(s) per corpus ({', '.join(map(str, seeds))}); mean ± standard deviation over seeds.",
        f"Evaluation: frozen features of `{results['dataset']}` "
        f"({results['n_train']:,} train / {results['n_val']:,} val images), accuracies in %.",
        f"Machine: {machine['platform']}, {on}, torch {machine['torch']}; {results['date']}.",
        f"Time: {results['train_seconds'] / 60:.1f} min of training in all runs; "
        f"{results['seconds']['total'] / 60:.1f} min for the last invocation of the experiment.",
        "",
        table,
        "",
    ]
    (out / "results.md").write_text("\n".join(lines))
    return table


def write_plots(results: dict[str, Any], out: Path, echo: Callable[[str], None] = print) -> list[Path]:
    """accuracy.png always; programs.png when two or more corpora differ in their program count.
    Needs matplotlib (`pip install 'synthgen[plot]'`); without it, says so and writes none."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        echo("no plots: matplotlib is not installed (pip install 'synthgen[plot]')")
        return []
    headline = headline_metric(results)
    dataset = Path(results["dataset"].partition(":")[2].rstrip("/")).name or results["dataset"]
    label = f"{METRIC_LABELS[headline]} on {dataset} (%)"
    rows = results["rows"]
    written = []

    figure, axes = plt.subplots(figsize=(6.4, 0.45 * len(rows) + 1.4))
    for position, row in enumerate(reversed(rows)):
        mean, std = 100 * row["mean"][headline], row["std"][headline]
        colour = "tab:gray" if row["kind"] == "baseline" else "tab:blue"
        axes.errorbar(mean, position, xerr=None if std is None else 100 * std, fmt="o", color=colour, capsize=3)
    axes.set_yticks(range(len(rows)), [row["name"] for row in reversed(rows)])
    _baseline_lines(axes, rows, headline, vertical=True)
    axes.set_xlabel(label)
    axes.set_title(results["experiment"])
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    written.append(_save(figure, out / "accuracy.png"))

    scaled = sorted((row for row in rows if row.get("programs")), key=lambda row: row["programs"])
    if len({row["programs"] for row in scaled}) >= 2:
        figure, axes = plt.subplots(figsize=(6.4, 4.2))
        x = [row["programs"] for row in scaled]
        y = [100 * row["mean"][headline] for row in scaled]
        errors = [100 * (row["std"][headline] or 0.0) for row in scaled]
        axes.errorbar(x, y, yerr=errors, fmt="o-", color="tab:blue", capsize=3, label="pretrained")
        axes.set_xscale("log", base=2)
        axes.set_xticks(x, [str(value) for value in x])
        _baseline_lines(axes, rows, headline, vertical=False)
        axes.set_xlabel("shader programs in the corpus")
        axes.set_ylabel(label)
        axes.set_title(results["experiment"])
        axes.grid(alpha=0.3)
        axes.legend()
        figure.tight_layout()
        written.append(_save(figure, out / "programs.png"))
    return written


def _baseline_lines(axes: Any, rows: list[dict[str, Any]], metric: str, vertical: bool) -> None:
    for row, style in zip((r for r in rows if r["kind"] == "baseline"), ("--", ":"), strict=False):
        value = 100 * row["mean"][metric]
        line = axes.axvline if vertical else axes.axhline
        line(value, color="tab:gray", linestyle=style, linewidth=1, label=row["name"])


def _save(figure: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def _percent(mean: float, std: float | None) -> str:
    return f"{100 * mean:.1f}" + ("" if std is None else f" ± {100 * std:.1f}")
