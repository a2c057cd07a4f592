"""The contract between the render driver and a source family.

A source turns sample specs into images and per-sample metadata. It knows nothing of tars,
storage or executors; it may hold heavy per-worker state (a GL context, a model on a device).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from synthgen.text import counted

if TYPE_CHECKING:
    from synthgen.recipe import Recipe

# The precision a torch source computes in, as recipes write it (`auto`: bfloat16 on CUDA,
# float32 on the CPU); declared here, without torch, for the recipe configs.
Dtype = Literal["auto", "float32", "bfloat16", "float16"]


@dataclass(frozen=True)
class SampleSpec:
    """What to render: sample `index`, drawn from `seed` (derived from the recipe seed, index and attempt)."""

    index: int
    seed: int
    attempt: int
    views: int


@dataclass
class RenderedSample:
    """One group: `views` uint8 HxWx3 images of one underlying thing, plus what re-renders it.

    `meta` is merged into the sample's json; per-view parameters go in `meta["views"]`
    (a list with one dict per view).
    """

    images: list[np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    cls: int | None = None
    txt: str | None = None


@dataclass(frozen=True)
class SampleFailure:
    """A sample that could not be rendered; the driver redraws it from a derived seed.

    `reason` is the counter name in the shard stats (e.g. `compile_error`, `near_constant`);
    `subject` identifies the culprit (a program id) so the driver reports it once.
    """

    reason: str
    subject: str = ""
    message: str = ""


def describe_failures(failures: Iterable[SampleFailure], noun: str = "draws", limit: int = 5) -> str:
    """The distinct failures, most frequent first (then in order seen), for an error saying why
    nothing rendered: `reason: message (3 noun)`, or `reason: message (subject)` for one whose
    message does not name its culprit; the first `limit`, then how many more there were."""
    groups: dict[tuple[str, str], list[SampleFailure]] = {}
    for failure in failures:
        groups.setdefault((failure.reason, failure.message), []).append(failure)
    parts = []
    for (reason, message), found in sorted(groups.items(), key=lambda item: -len(item[1])):
        text = f"{reason}: {message}"
        if len(found) > 1:
            text += f" ({len(found)} {noun})"
        elif found[0].subject and found[0].subject not in message:
            text += f" ({found[0].subject})"
        parts.append(text)
    more = len(parts) - limit
    return "; ".join(parts[:limit]) + (f"; and {counted(more, 'other error')}" if more > 0 else "")


class Source(ABC):
    """A family of images. Subclasses set `kind` and implement `render`."""

    kind: ClassVar[str]
    # True: the constructor takes `permissions=` (synthgen.permissions.Permissions, what the user
    # allows a recipe to run), which build_source passes on; a family that runs no user code
    # (nearly all) takes none.
    takes_permissions: ClassVar[bool] = False
    # How many specs the driver hands to one `render` call.
    batch_size: int = 1
    # Failure reasons after which the source leaves the culprit (SampleFailure.subject) out of the
    # rest of the render (a shader program that does not compile): the manifest lists them.
    excluding_reasons: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, recipe: Recipe, device: str | None = None) -> None:
        self.recipe = recipe
        self.device = device

    @classmethod  # noqa: B027 (an optional hook)
    def check(cls, recipe: Recipe) -> None:
        """Cheap checks the driver runs before any worker starts; raise SourceError on bad input."""

    @abstractmethod
    def render(self, specs: Sequence[SampleSpec]) -> list[RenderedSample | SampleFailure]:
        """Render each spec; the result list is aligned with `specs`."""

    def close(self) -> None:  # noqa: B027 (an optional hook: most sources hold nothing to release)
        """Release heavy state (GL context, GPU memory)."""
