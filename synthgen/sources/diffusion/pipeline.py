"""Load a diffusers text-to-image pipeline for a render: from the cache first, with one-line errors.

`model` is a local folder or a hub id (for `synthgen:tiny-sd`, the source passes the folder of
the tiny pipeline in synthgen's cache: tiny.cached_tiny_pipeline); `AutoPipelineForText2Image` picks the pipeline class
(Stable Diffusion 1.x/2.x, SDXL, SD-Turbo, SDXL-Turbo, ...) from its model_index.json. A hub id
is read from the Hugging Face cache first, so a cached model loads without a network request;
only when it is not cached, and HF_HUB_OFFLINE is not set, is the hub asked.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from synthgen.errors import SourceError
from synthgen.sources.diffusion.config import TINY_MODEL, DiffusionSourceConfig
from synthgen.sources.torch import resolve_dtype

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline


def load_pipeline(config: DiffusionSourceConfig, device: torch.device, folder: str | None = None) -> DiffusionPipeline:
    """The recipe's pipeline on `device`, set up for throughput (see `prepare_for_device`).

    `folder`: where the pipeline is when `config.model` names one that is neither a path nor a hub
    id (a built-in model's folder in synthgen's cache)."""
    model = folder or config.model
    is_folder = Path(model).is_absolute()
    if is_folder:
        check_pipeline_folder(model)
    # safetensors only: weights are data, never pickles that run code when loaded (as checkpoints elsewhere).
    options: dict[str, Any] = {"torch_dtype": resolve_dtype(config.dtype, device), "use_safetensors": True}
    if config.revision is not None:
        options["revision"] = config.revision
    if config.variant is not None:
        options["variant"] = config.variant
    with quiet_hub_libraries():
        from diffusers import AutoPipelineForText2Image, DiffusionPipeline

        index = _from_cache_or_hub(DiffusionPipeline.load_config, model, is_folder, {"revision": config.revision})
        if "safety_checker" in index and not config.safety_checker:
            # Not even loaded: it costs memory and time, and it blacks out images it flags.
            options.update(safety_checker=None, requires_safety_checker=False)
        pipeline = _from_cache_or_hub(AutoPipelineForText2Image.from_pretrained, model, is_folder, options)
    if config.scheduler_class is not None:
        pipeline.scheduler = scheduler_from_name(config.scheduler_class, pipeline.scheduler.config)
    pipeline.set_progress_bar_config(disable=True)
    prepare_for_device(pipeline, device, compile_denoiser=config.compile)
    return pipeline


def check_pipeline_folder(folder: str) -> None:
    """A local model must be a folder with model_index.json: say which of the two is missing."""
    path = Path(folder)
    if not path.is_dir():
        raise SourceError(
            f"source.model: no such folder: {folder}; give a folder that holds a diffusers pipeline "
            f"(model_index.json), or a hub id such as stabilityai/sd-turbo "
            f"(`synthgen diffusion make-tiny {folder}` writes a tiny one for trying things out; "
            f"`model: {TINY_MODEL}` builds it in synthgen's cache)"
        )
    if not (path / "model_index.json").is_file():
        raise SourceError(
            f"source.model: {folder} is not a diffusers pipeline folder (no model_index.json); "
            f"write one with `pipeline.save_pretrained(folder)` or `hf download MODEL --local-dir {folder}`"
        )


def _from_cache_or_hub(load: Callable[..., Any], model: str, is_folder: bool, options: dict) -> Any:
    """`load(model, **options)` from local files; then, for a hub id when online, from the hub."""
    try:
        return load(model, local_files_only=True, **options)
    except Exception as err:  # diffusers and huggingface_hub raise OSError, ValueError and their own
        if is_folder:
            raise SourceError(f"source.model: cannot load the pipeline in {model}: {_first_line(err)}") from err
        if hub_offline():
            raise SourceError(_not_available(model, "it is not in the Hugging Face cache", err)) from err
    try:
        return load(model, **options)
    except Exception as err:
        raise SourceError(_not_available(model, "neither the cache nor the hub has it", err)) from err


def _not_available(model: str, why: str, err: BaseException) -> str:
    offline = " with HF_HUB_OFFLINE set" if hub_offline() else ""
    return (
        f"source.model: cannot load {model!r}{offline}: {why} ({_first_line(err)}); download it once with "
        f"`hf download {model}` (into the cache, HF_HOME), or set `model:` to a local pipeline folder"
    )


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    line = text[0] if text else type(err).__name__
    return line if len(line) <= 160 else line[:157] + "..."


def hub_offline() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE), as huggingface_hub read it."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def scheduler_from_name(class_name: str, scheduler_config: Any) -> Any:
    """A diffusers scheduler class, made from the model's scheduler config (its betas, timesteps)."""
    import diffusers

    scheduler_class = getattr(diffusers, class_name, None)
    if scheduler_class is None or not hasattr(scheduler_class, "from_config"):
        raise SourceError(f"source.scheduler: diffusers {diffusers.__version__} has no scheduler {class_name}")
    return scheduler_class.from_config(scheduler_config)


def prepare_for_device(pipeline: DiffusionPipeline, device: torch.device, compile_denoiser: bool = False) -> None:
    """Move the pipeline to `device` and set it up for speed there.

    Attention already runs through torch's scaled_dot_product_attention (diffusers' default
    processor on torch 2), so it is left alone. On a GPU the convolutional parts go channels_last,
    which tensor cores prefer; on the CPU that tends to be slower, so they stay as they are.
    """
    pipeline.to(device)
    if device.type == "cuda":
        for name in ("unet", "vae"):
            module = getattr(pipeline, name, None)
            if module is not None:
                module.to(memory_format=torch.channels_last)
    if compile_denoiser:
        # In place (nn.Module.compile), so the pipeline still sees the module and its config.
        # Batches have a fixed shape (the source pads them), so it compiles once.
        denoiser = getattr(pipeline, "unet", None) or getattr(pipeline, "transformer", None)
        if denoiser is None:
            raise SourceError("source.compile: this pipeline has no unet or transformer to compile")
        denoiser.compile()


def native_size(pipeline: DiffusionPipeline) -> tuple[int, int]:
    """(width, height) the model was trained at: its latent sample size times the VAE's scale."""
    sample = getattr(pipeline, "default_sample_size", None)
    unet = getattr(pipeline, "unet", None)
    if sample is None and unet is not None:
        sample = unet.config.sample_size
    factor = getattr(pipeline, "vae_scale_factor", None)
    if sample is None or factor is None:
        raise SourceError(
            f"source.generation_size: cannot tell the native size of {type(pipeline).__name__}; set it in the recipe"
        )
    height, width = (sample, sample) if isinstance(sample, int) else sample
    return width * factor, height * factor


@contextlib.contextmanager
def diffusers_errors_only() -> Iterator[None]:
    """Keep diffusers to errors for the block: a pipeline call warns, for example, on every prompt
    longer than CLIP's 77 tokens that it truncates, which captions often are."""
    from diffusers.utils import logging as diffusers_logging

    level = diffusers_logging.get_verbosity()
    diffusers_logging.set_verbosity_error()
    try:
        yield
    finally:
        diffusers_logging.set_verbosity(level)


@contextlib.contextmanager
def quiet_hub_libraries() -> Iterator[None]:
    """Silence diffusers', transformers' and huggingface_hub's warnings and progress bars.

    While a pipeline loads they report things a render does not act on (torchvision is not
    installed, the safety checker is off, a bar per component); errors still raise.
    """
    from diffusers.utils import logging as diffusers_logging
    from huggingface_hub import utils as hub_utils
    from transformers.utils import logging as transformers_logging

    saved = [(module, module.get_verbosity()) for module in (diffusers_logging, transformers_logging)]
    bars = [(module, module.is_progress_bar_enabled()) for module in (diffusers_logging, transformers_logging)]
    hub_bars = not hub_utils.are_progress_bars_disabled()
    try:
        for module, _ in saved:
            module.set_verbosity_error()
            module.disable_progress_bar()
        hub_utils.disable_progress_bars()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for module, level in saved:
            module.set_verbosity(level)
        for module, enabled in bars:
            if enabled:
                module.enable_progress_bar()
        if hub_bars:
            hub_utils.enable_progress_bars()
