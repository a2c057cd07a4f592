"""The render path: plan (shards, resume), driver, the sample function shared with live training,
executors. `render_corpus(load_recipe("my-shaders.yaml"), "out/demo", workers=2)`."""

from __future__ import annotations

from synthgen.render.driver import (
    RenderSummary,
    clear_corpus,
    other_recipe_problem,
    recorded_manifest,
    render_corpus,
    render_shard,
)
from synthgen.render.executors import Executor, LocalExecutor, Progress, RayExecutor, ShardFn, available_gpus
from synthgen.render.plan import ShardTask, committed_shards, plan_shards
from synthgen.render.samples import MAX_ATTEMPTS, render_samples, sample_fields

__all__ = [
    "MAX_ATTEMPTS",
    "Executor",
    "LocalExecutor",
    "Progress",
    "RayExecutor",
    "RenderSummary",
    "ShardFn",
    "ShardTask",
    "available_gpus",
    "clear_corpus",
    "committed_shards",
    "other_recipe_problem",
    "plan_shards",
    "recorded_manifest",
    "render_corpus",
    "render_samples",
    "render_shard",
    "sample_fields",
]
