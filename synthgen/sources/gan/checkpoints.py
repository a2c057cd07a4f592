"""Reading trained weights and user generator factories, treating files as untrusted input.

A checkpoint is read as safetensors, or with `torch.load(weights_only=True)`, which only
rebuilds tensors and plain containers. A file that needs full unpickling (a pickled module, an
NVIDIA `.pkl`) can run code when loaded, so it is refused unless the user trusts that file
(`--trust-pickle FILE_OR_SHA256`: synthgen/permissions.py); a recipe cannot.

A generator factory is named "package.module:function". It is called as
`function(**generator_kwargs)` and returns `(module, latent_size, num_classes)`: a torch module
whose forward takes `(z, labels)`, z [N, latent_size] and labels [N] class indices (int64) or
None when num_classes is 0, and returns images [N, 3, H, W] in [-1, 1].
"""

from __future__ import annotations

import importlib
import json
import pickle
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from synthgen.errors import SourceError
from synthgen.permissions import Permissions, check_pickle_trusted, resolve_permissions
from synthgen.permissions import file_sha256 as file_sha256  # where trained.py finds it

# Where a checkpoint dict commonly keeps the generator's state dict (stylegan2-ada's `.pkl`
# holds G, D and G_ema: the moving average G_ema is the one to sample from).
GENERATOR_KEYS = ("G_ema", "g_ema", "generator", "state_dict", "model", "G")


def load_state_dict(path: str, permissions: Permissions | None = None) -> dict[str, Tensor]:
    """The generator state dict in `path` (safetensors or torch), on the CPU.

    A file that only full unpickling reads is unpickled only if `permissions` trust it (None:
    the permissions in effect, synthgen.permissions.current_permissions); else NotAllowedError.
    """
    file = Path(path)
    if not file.is_file():
        raise SourceError(
            f"source.checkpoint: no such file: {path} (point it at your generator's weights; "
            "a relative path is read from the recipe's folder)"
        )
    if is_safetensors(file):
        return _load_safetensors(file)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # notes on pickle protocols: the outcome says enough
            loaded = torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # weights_only refused something in the pickle: a class, a function, a module.
        check_pickle_trusted(path, permissions)
        loaded = _unpickle(file)
    except Exception as err:  # a damaged or foreign file: torch raises many types
        if not resolve_permissions(permissions).trusts_pickle(file):
            raise SourceError(
                f"source.checkpoint: cannot read {path} as safetensors or a torch state dict: {err}"
            ) from None
        loaded = _unpickle(file)
    return _find_state_dict(loaded, path)


def is_safetensors(file: Path) -> bool:
    """safetensors files start with the 8-byte length of a JSON header."""
    with file.open("rb") as handle:
        head = handle.read(9)
    return len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100_000_000


def _load_safetensors(file: Path) -> dict[str, Tensor]:
    try:
        from safetensors.torch import load_file
    except ImportError:
        raise SourceError(f"source.checkpoint: {file} is safetensors: pip install safetensors") from None
    try:
        return load_file(str(file), device="cpu")
    except Exception as err:
        raise SourceError(f"source.checkpoint: cannot read {file} as safetensors: {err}") from None


def _unpickle(file: Path) -> Any:
    """Full unpickling, for trusted files only: a torch file, or a plain pickle (stylegan2-ada's
    `.pkl`, which needs that repository's code on the path)."""
    try:
        return torch.load(file, map_location="cpu", weights_only=False)
    except Exception:
        pass
    try:
        with file.open("rb") as handle:
            return pickle.load(handle)
    except Exception as err:
        raise SourceError(f"source.checkpoint: cannot unpickle {file}: {type(err).__name__}: {err}") from None


def _find_state_dict(loaded: Any, path: str) -> dict[str, Tensor]:
    """A name -> tensor mapping, a module, or a dict holding either under a GENERATOR_KEYS key."""
    if isinstance(loaded, nn.Module):
        return dict(loaded.state_dict())
    if isinstance(loaded, Mapping):
        if loaded and all(isinstance(value, Tensor) for value in loaded.values()):
            return dict(loaded)
        for key in GENERATOR_KEYS:
            if key in loaded and isinstance(loaded[key], nn.Module | Mapping):
                return _find_state_dict(loaded[key], path)
    raise SourceError(
        f"source.checkpoint: {path} holds a {type(loaded).__name__}; expected a state dict (name -> tensor), "
        f"a module, or a dict with one under {', '.join(repr(k) for k in GENERATOR_KEYS)}"
    )


def load_into(module: nn.Module, state: Mapping[str, Tensor], path: str, fix: str) -> None:
    """`module.load_state_dict(state)`, or one line saying what does not fit and what to `fix`."""
    expected = module.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    mismatched = [key for key in expected if key in state and tuple(state[key].shape) != tuple(expected[key].shape)]
    if missing or unexpected or mismatched:
        problems = []
        if mismatched:
            key = mismatched[0]
            problems.append(
                f"{key} is {list(state[key].shape)} in the file, {list(expected[key].shape)} here"
                + (f" (and {len(mismatched) - 1} more shapes differ)" if len(mismatched) > 1 else "")
            )
        for what, keys in (("missing", missing), ("unexpected", unexpected)):
            if keys:
                problems.append(f"{what}: {keys[0]}" + (f" (and {len(keys) - 1} more)" if len(keys) > 1 else ""))
        raise SourceError(f"source.checkpoint: {path} does not fit the network: {'; '.join(problems)}; {fix}")
    module.load_state_dict(state)


# --- generator factories -------------------------------------------------------------------


def resolve_factory(name: str) -> Callable[..., Any]:
    """Import "package.module:function" (the module must be importable: installed or on PYTHONPATH)."""
    module_name, _, attribute = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise SourceError(f"source.generator: cannot import {module_name!r}: {err}") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise SourceError(f"source.generator: {module_name!r} has no function {attribute!r}")
    return factory


def call_factory(name: str, kwargs: Mapping[str, Any]) -> tuple[nn.Module, int, int]:
    """Build the user's generator: `(module, latent_size, num_classes)`, checked."""
    try:
        built = resolve_factory(name)(**kwargs)
    except SourceError:
        raise
    except Exception as err:
        raise SourceError(
            f"source.generator: {name}(**{json.dumps(dict(kwargs))}) failed: {type(err).__name__}: {err}"
        ) from None
    if not (
        isinstance(built, tuple)
        and len(built) == 3
        and isinstance(built[0], nn.Module)
        and all(isinstance(n, int) and not isinstance(n, bool) for n in built[1:])
        and built[1] > 0
        and built[2] >= 0
    ):
        raise SourceError(
            f"source.generator: {name} returned {type(built).__name__}; expected (module, latent_size, num_classes): "
            "a torch module, an int > 0 and an int >= 0"
        )
    return built
