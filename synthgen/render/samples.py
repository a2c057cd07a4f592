"""The sample function that `synthgen render` and live training share: samples i..j of a recipe,
each checked, a failed draw redrawn from a seed derived from (recipe seed, i, attempt)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from synthgen import __version__
from synthgen.corpus.encode import encode_image
from synthgen.corpus.format import encode_cls, sample_key, view_field
from synthgen.errors import SourceError
from synthgen.faults import failpoint
from synthgen.recipe import Recipe, canonical_json
from synthgen.seeds import sample_seed
from synthgen.sources.base import RenderedSample, SampleFailure, SampleSpec, Source, describe_failures

# A sample failing this many times in a row means the source is broken, not unlucky.
MAX_ATTEMPTS = 32
# Culprits (e.g. broken programs) recorded per shard sidecar, with their first message.
MAX_FAILURE_SUBJECTS = 100


def render_samples(
    recipe: Recipe,
    source: Source,
    indices: Iterable[int],
    failures: Counter[str] | None = None,
    subjects: dict[str, str] | None = None,
    excluded: dict[str, str] | None = None,
) -> list[tuple[SampleSpec, RenderedSample]]:
    """Render samples `indices`, redrawing failures deterministically; in index order. Failed
    draws are counted in `failures` by reason, the first message per culprit goes in `subjects`
    (at most MAX_FAILURE_SUBJECTS), and the culprits the source excludes (its
    excluding_reasons) in `excluded`, each with its reason."""
    failures = Counter() if failures is None else failures
    subjects = {} if subjects is None else subjects
    excluded = {} if excluded is None else excluded
    indices = list(indices)
    specs = [SampleSpec(i, sample_seed(recipe.seed, i, 0), 0, recipe.views) for i in indices]
    done: dict[int, tuple[SampleSpec, RenderedSample]] = {}
    # Each unfinished sample's failed draws, for the error should all of them fail.
    tried: dict[int, list[SampleFailure]] = {}
    while specs:
        retry = []
        rendered = source.render(specs)
        failpoint("render.batch")
        for spec, result in zip(specs, rendered, strict=True):
            if isinstance(result, SampleFailure):
                failures[result.reason] += 1
                subject = result.subject or result.reason
                if subject not in subjects and len(subjects) < MAX_FAILURE_SUBJECTS:
                    subjects[subject] = f"{result.reason}: {result.message}"
                if result.reason in source.excluding_reasons:
                    excluded.setdefault(subject, result.reason)
                tried.setdefault(spec.index, []).append(result)
                attempt = spec.attempt + 1
                if attempt >= MAX_ATTEMPTS:
                    raise SourceError(
                        f"sample {spec.index}: {MAX_ATTEMPTS} draws in a row failed: "
                        f"{describe_failures(tried[spec.index])}; check the recipe's source"
                    )
                retry.append(SampleSpec(spec.index, sample_seed(recipe.seed, spec.index, attempt), attempt, spec.views))
            else:
                _check_sample(recipe, spec, result)
                done[spec.index] = (spec, result)
                tried.pop(spec.index, None)
        specs = retry
    return [done[i] for i in indices]


def _check_sample(recipe: Recipe, spec: SampleSpec, sample: RenderedSample) -> None:
    """A source that breaks the contract is a bug in the source: stop, do not write it."""
    where = f"{recipe.source.kind} source, sample {spec.index}"
    expected = (recipe.image.height, recipe.image.width, 3)
    if len(sample.images) != spec.views:
        raise SourceError(f"{where}: {len(sample.images)} views, expected {spec.views}")
    for image in sample.images:
        if image.shape != expected or image.dtype.name != "uint8":
            raise SourceError(f"{where}: a {image.dtype} {image.shape} image, expected uint8 {expected}")


def sample_fields(recipe: Recipe, spec: SampleSpec, sample: RenderedSample) -> dict[str, Any]:
    """The WebDataset fields of one sample: view 0 as `jpg`, then `view1.jpg`, ..., `json`, `cls`, `txt`."""
    fmt = recipe.image.format
    fields: dict[str, Any] = {"__key__": sample_key(spec.index)}
    for view, image in enumerate(sample.images):
        fields[view_field(view, fmt)] = encode_image(image, fmt, recipe.image.quality)
        failpoint("encode")
    meta = {
        "key": fields["__key__"],
        "index": spec.index,
        "recipe": recipe.name,
        "recipe_sha256": recipe.sha256,
        "kind": recipe.source.kind,
        "seed": spec.seed,
        "attempt": spec.attempt,
        "width": recipe.image.width,
        "height": recipe.image.height,
        "synthgen_version": __version__,
        **sample.meta,
    }
    fields["json"] = canonical_json(meta)
    if sample.cls is not None:
        fields["cls"] = encode_cls(sample.cls)
    if sample.txt is not None:
        fields["txt"] = sample.txt.encode("utf-8")
    return fields
