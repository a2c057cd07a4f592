"""An experiment's results as a markdown table and two plots (accuracy per corpus; accuracy
against the number of shader programs)."""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synthgen.evaluate.run import EvalReport

logger = logging.getLogger(__name__)

# Metric keys (without a protocol's `@N`) in the order the table shows them.
METRIC_LABELS = {
    "linear_top1": "linear top-1",
    "linear_top5": "linear top-5",
    "knn20_top1": "kNN-20 top-1",
    "knn200_top1": "kNN-200 top-1",
    "finetune_top1": "fine-tune top-1",
    "finetune_top5": "fine-tune top-5",
}
# The metrics a table shows (the top-5 ones and kNN-200 stay in results.json).
TABLE_METRICS = ("linear_top1", "knn20_top1", "finetune_top1")


def metrics_of(report: EvalReport) -> dict[str, float]:
    """The accuracies of one `synthgen eval` report, flat: linear_top1, knn20_top1, ..."""
    metrics = {}
    if report.linear is not None:
        metrics["linear_top1"] = report.linear["top1"]
        metrics["linear_top5"] = report.linear["top5"]
    for k, result in (report.knn or {}).get("by_k", {}).items():
        metrics[f"knn{k}_top1"] = result["top1"]
    if report.finetune is not None:
        metrics["finetune_top1"] = report.finetune["top1"]
        metrics["finetune_top5"] = report.finetune["top5"]
    return metrics


def metric_label(key: str) -> str:
    """`linear_top1@10` -> `linear top-1, 10/class`."""
    base, _, per_class = key.partition("@")
    label = METRIC_LABELS.get(base, base)
    return f"{label}, {per_class}/class" if per_class else label


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and sample standard deviation (None for one run) of each metric over runs."""
    keys = runs[0]["metrics"].keys()
    values = {key: [run["metrics"][key] for run in runs] for key in keys}
    return {
        "mean": {key: statistics.fmean(v) for key, v in values.items()},
        "std": {key: statistics.stdev(v) if len(v) > 1 else None for key, v in values.items()},
    }


def headline_metric(spec: Any) -> str:
    """The metric of the plots and of the `vs random` and gap-closed columns: `eval.headline`, else
    the first metric of the first protocol (linear top-1 when it is measured there)."""
    if spec.headline:
        return spec.headline
    protocol = spec.measured[0]
    first = {"linear": "linear_top1", "knn": "knn20_top1", "finetune": "finetune_top1"}
    probe = "linear" if "linear" in protocol.probes else protocol.probes[0]
    return first[probe] + protocol.suffix


def gap_closed(row: dict[str, Any], rows: list[dict[str, Any]], metric: str) -> dict[str, Any] | None:
    """The share of the gap between the untrained network and the real-data control that `row`
    closes on `metric`: (row - random) / (real - random), Shaders21k's measure. Computed per seed
    where the row, random and the control share seeds (random's seed s is the init that run s
    started from), then mean and spread; else from the means. None without both references, or
    when the control does not beat random (the gap is then no gap)."""
    random = next((r for r in rows if r["name"] == "random"), None)
    real = next((r for r in rows if r["kind"] == "control"), None)
    if random is None or real is None or metric not in row["mean"] or metric not in real["mean"]:
        return None
    if real["mean"][metric] <= random["mean"][metric]:
        return None

    def by_seed(r: dict[str, Any]) -> dict[int, float]:
        return {run["seed"]: run["metrics"][metric] for run in r["runs"] if metric in run["metrics"]}

    mine, base, top = by_seed(row), by_seed(random), by_seed(real)
    shared = sorted(set(mine) & set(base) & set(top))
    shares = [(mine[s] - base[s]) / (top[s] - base[s]) for s in shared if top[s] > base[s]]
    if len(shares) >= 2 and len(shares) == len(shared):
        return {"mean": statistics.fmean(shares), "std": statistics.stdev(shares), "paired": True}
    mean = (row["mean"][metric] - random["mean"][metric]) / (real["mean"][metric] - random["mean"][metric])
    return {"mean": mean, "std": None, "paired": False}


def table_metrics(results: dict[str, Any]) -> list[str]:
    """The measured metrics the table shows, protocol by protocol."""
    present = {key for row in results["rows"] for key in row["mean"]}
    keys = []
    for protocol in results["protocols"]:
        suffix = "" if protocol["labels_per_class"] is None else f"@{protocol['labels_per_class']}"
        keys += [key + suffix for key in TABLE_METRICS if key + suffix in present]
    return keys


def markdown_table(results: dict[str, Any]) -> str:
    rows = results["rows"]
    metrics = table_metrics(results)
    headline = results["headline"]
    random = next((row for row in rows if row["name"] == "random"), None)
    has_gap = any(row["kind"] == "control" for row in rows) and random is not None
    header = ["", "programs", "images", *(metric_label(key) for key in metrics)]
    if random is not None:
        header.append(f"{metric_label(headline)} vs random")
    if has_gap:
        header.append("gap closed")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [
            f"**{row['name']}**" if row["kind"] != "corpus" else row["name"],
            str(row.get("programs") or ""),
            f"{row['images']:,}" if row.get("images") else "",
            *(_percent(row["mean"][key], row["std"][key]) if key in row["mean"] else "" for key in metrics),
        ]
        if random is not None:
            delta = 100 * (row["mean"][headline] - random["mean"][headline]) if headline in row["mean"] else None
            cells.append("" if row is random or delta is None else f"{delta:+.1f}")
        if has_gap:
            gap = (row.get("gap_closed") or {}).get(headline)
            cells.append("" if gap is None else _percent(gap["mean"], gap["std"]))
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
        f"Evaluation on `{results['dataset']}` ({results['n_val']:,} val images), accuracies in %: "
        + "; ".join(_protocol_text(protocol) for protocol in results["protocols"])
        + ".",
        "Gap closed: (corpus - random) / (real - random) on the headline metric "
        f"({metric_label(results['headline'])}), per seed, mean ± standard deviation; "
        "100% matches pretraining on the real images, 0% no pretraining.",
        f"Machine: {machine['platform']}, {on}, torch {machine['torch']}; {results['date']}.",
        f"Time: {results['train_seconds'] / 60:.1f} min of training in all runs; "
        f"{results['seconds']['total'] / 60:.1f} min for the last invocation of the experiment.",
        "",
        table,
        "",
    ]
    (out / "results.md").write_text("\n".join(lines))
    return table


def write_plots(results: dict[str, Any], out: Path, echo: Callable[[str], None] = logger.info) -> list[Path]:
    """accuracy.png always; programs.png when two or more corpora differ in their program count.
    Needs matplotlib (`pip install 'synthgen[plot]'`); without it, says so (to `echo`) and writes none."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        echo("no plots: matplotlib is not installed (pip install 'synthgen[plot]')")
        return []
    headline = results["headline"]
    dataset = Path(results["dataset"].partition(":")[2].rstrip("/")).name or results["dataset"]
    label = f"{metric_label(headline)} on {dataset} (%)"
    rows = results["rows"]
    written = []

    figure, axes = plt.subplots(figsize=(6.4, 0.45 * len(rows) + 1.4))
    rows = [row for row in rows if headline in row["mean"]]
    colours = {"baseline": "tab:gray", "control": "tab:green", "corpus": "tab:blue"}
    for position, row in enumerate(reversed(rows)):
        mean, std = 100 * row["mean"][headline], row["std"][headline]
        colour = colours[row["kind"]]
        axes.errorbar(mean, position, xerr=None if std is None else 100 * std, fmt="o", color=colour, capsize=3)
        gap = (row.get("gap_closed") or {}).get(headline)
        if gap is not None:  # the share of the random-to-real gap this corpus closes
            axes.annotate(f"  {100 * gap['mean']:.0f}% of the gap", (mean, position), fontsize=8, va="center")
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


def _protocol_text(protocol: dict[str, Any]) -> str:
    probes = ", ".join(protocol["probes"])
    if protocol["labels_per_class"] is not None:
        labels = f"{protocol['labels_per_class']} labelled images per class"
    elif protocol.get("limit_train"):
        labels = f"{protocol['limit_train']:,} labelled images"
    else:
        labels = "all labelled train images"
    tuned = protocol.get("finetune")
    recipe = f" (fine-tuned {tuned['epochs']} epochs at lr {tuned['lr']:g})" if tuned else ""
    return f"{probes} on {labels}{recipe}"


def _percent(mean: float, std: float | None) -> str:
    return f"{100 * mean:.1f}" + ("" if std is None else f" ± {100 * std:.1f}")
