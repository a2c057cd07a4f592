"""A tiny Stable Diffusion pipeline built from configs, for demos and tests: nothing is downloaded.

It has the architecture of Stable Diffusion 1.x (a CLIP text encoder and tokenizer, a UNet with
cross-attention, a VAE that scales by 8) at 360,000 parameters (1.4 MB), with random weights from
a fixed seed, so its images are coloured noise that depends on the prompt and the seed. Its native
size is 64x64 (8x8 latents), at about 100 images per second on one CPU core with 2 steps, and it
loads like any other pipeline: `AutoPipelineForText2Image.from_pretrained(folder)`.

    synthgen diffusion make-tiny out/tiny-sd     # a folder for `model: out/tiny-sd`

A recipe can also name it `model: synthgen:tiny-sd` (config.TINY_MODEL): it is built the first time a
render needs it, into the cache ($SYNTHGEN_CACHE, else $XDG_CACHE_HOME/synthgen, else
~/.cache/synthgen), and read from there afterwards, so the recipe works from any folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import torch

from synthgen.errors import SourceError
from synthgen.sources.diffusion.config import TINY_MODEL
from synthgen.sources.diffusion.pipeline import quiet_hub_libraries

# The version of what build_tiny_pipeline builds: raised when its architecture or weights change,
# so that a cache built by another version is never read as this one.
TINY_VERSION = 1

# The tokenizer's context, as CLIP's.
MAX_TOKENS = 77
BOS_TOKEN = "<|startoftext|>"
EOS_TOKEN = "<|endoftext|>"


def byte_symbols() -> list[str]:
    """The 256 printable symbols that byte-level BPE (GPT-2, CLIP) uses for the 256 byte values."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols = {byte: chr(byte) for byte in printable}
    extra = 0
    for byte in range(256):
        if byte not in symbols:
            symbols[byte] = chr(256 + extra)
            extra += 1
    return [symbols[byte] for byte in range(256)]


def write_tokenizer_files(folder: Path) -> None:
    """A CLIP tokenizer's files with no merges: every byte is a token (with and without the
    end-of-word mark `</w>`), so any text encodes, one token per byte."""
    symbols = byte_symbols()
    vocab = {token: index for index, token in enumerate([*symbols, *(s + "</w>" for s in symbols)])}
    vocab.update({BOS_TOKEN: len(vocab), EOS_TOKEN: len(vocab) + 1})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": MAX_TOKENS}), encoding="utf-8")


def build_tiny_pipeline(seed: int = 0):  # -> StableDiffusionPipeline
    """A tiny StableDiffusionPipeline, with random weights from `seed` (the global RNG is left alone)."""
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    with tempfile.TemporaryDirectory() as scratch:
        write_tokenizer_files(Path(scratch))
        tokenizer = CLIPTokenizer.from_pretrained(scratch)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        text_encoder = CLIPTextModel(
            CLIPTextConfig(
                vocab_size=len(tokenizer),
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=4,
                max_position_embeddings=MAX_TOKENS,
                projection_dim=32,
                bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
            )
        )
        unet = UNet2DConditionModel(
            sample_size=8,
            in_channels=4,
            out_channels=4,
            block_out_channels=(16, 32),
            layers_per_block=1,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=32,
            attention_head_dim=4,
            norm_num_groups=8,
        )
        # Four blocks, so latents are 1/8 of the image's side, as in Stable Diffusion.
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            block_out_channels=(8, 8, 16, 16),
            latent_channels=4,
            norm_num_groups=4,
            sample_size=64,
        )
    # Stable Diffusion 1.x's noise schedule.
    scheduler = EulerDiscreteScheduler(
        num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
    )
    return StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def make_tiny_pipeline(folder: str | Path, seed: int = 0) -> Path:
    """Write the tiny pipeline into `folder` (created; a folder holding something else is refused)."""
    folder = Path(folder)
    if folder.exists() and (
        not folder.is_dir() or (any(folder.iterdir()) and not (folder / "model_index.json").exists())
    ):
        raise SourceError(f"{folder}: exists and holds something other than a pipeline; choose another folder")
    with quiet_hub_libraries():
        build_tiny_pipeline(seed).save_pretrained(folder)
    return folder


def cache_root() -> Path:
    """synthgen's cache folder: $SYNTHGEN_CACHE, else $XDG_CACHE_HOME/synthgen, else ~/.cache/synthgen."""
    if os.environ.get("SYNTHGEN_CACHE"):
        return Path(os.environ["SYNTHGEN_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "synthgen"


def cached_tiny_pipeline() -> Path:
    """The folder of the tiny pipeline that `model: synthgen:tiny-sd` names, built on first use.

    It is built (seed 0) into a temporary folder beside its place and renamed into it: a rename is
    atomic, so render workers that build it at the same moment each either win or find the
    winner's folder, and no reader ever sees a half-written one.
    """
    folder = cache_root() / f"tiny-sd-v{TINY_VERSION}"
    if (folder / "model_index.json").is_file():
        return folder
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    except OSError as err:
        raise SourceError(
            f"source.model {TINY_MODEL}: cannot write the cache {folder.parent} ({err.strerror or err}); "
            "set SYNTHGEN_CACHE to a writable folder"
        ) from None
    try:
        make_tiny_pipeline(scratch / "pipeline")
        try:
            os.rename(scratch / "pipeline", folder)
        except OSError as err:
            # Another worker's rename came first: its pipeline is the same as this one.
            if not (folder / "model_index.json").is_file():
                raise SourceError(
                    f"source.model {TINY_MODEL}: cannot put the tiny pipeline into {folder} "
                    f"({err.strerror or err}); remove that folder and render again"
                ) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return folder
