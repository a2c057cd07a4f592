"""The dataset card: `README.md` at the root of every corpus, so that the folder explains itself
and loads in other tools (a Hugging Face dataset card: YAML front matter, then Markdown).

    text = render_card(manifest)          # a pure function of the manifest: same corpus, same bytes
    write_card(dest, manifest)            # the render writes it after the shards, before the manifest
    card = read_card(dest)                # what `synthgen inspect` shows: licence, citation, front matter

The front matter holds `pretty_name`, `license`, `size_categories`, `task_categories`, `tags`,
`configs` (its `data_files` name the shards, so that `datasets.load_dataset(folder)` finds them
and not the sidecars beside them) and `synthgen` (recipe, sha256, kind, real data or not, the
paper the family comes from). The body says what the corpus is, its counts, how to load it with
webdataset, wids and Hugging Face `datasets`, its licence as far as it is known, the paper to
cite, and the resolved recipe.

Ownership: a README.md is synthgen's when it holds CARD_SIGNATURE (the comment line after the
front matter). synthgen writes, rewrites and removes only such a file; a README.md the user put
there (or claimed, by deleting that line) is left alone, with a warning.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from synthgen.corpus.format import SHARD_TAR, Manifest
from synthgen.corpus.storage import Destination
from synthgen.errors import SynthgenError
from synthgen.schema import load_yaml
from synthgen.text import printable

logger = logging.getLogger(__name__)

CARD_NAME = "README.md"
# What makes a README.md synthgen's (stable across versions: the rest of the line may change).
CARD_SIGNATURE = "<!-- synthgen-card:"
CARD_MARKER = (
    f"{CARD_SIGNATURE} synthgen wrote this file with the corpus and rewrites it whenever it writes the corpus "
    "again; delete this line to make the file yours, and synthgen leaves it alone. -->"
)
# The shards, as the card's `configs` name them for Hugging Face `datasets` and the Hub.
SHARD_PATTERN = "shard-*.tar"
# A recipe that names no `license`: its user decides (the Hub's identifier for "another licence").
DEFAULT_LICENSE = "other"
# Real data whose licence synthgen does not know.
UNKNOWN_LICENSE = "unknown"
# A README.md larger than this is no card of synthgen's (read no further).
MAX_CARD_BYTES = 1 << 20
# The Hub's size categories (datasets/utils/resources/size_categories.json), by upper bound.
SIZE_CATEGORIES = (
    (10**3, "n<1K"),
    (10**4, "1K<n<10K"),
    (10**5, "10K<n<100K"),
    (10**6, "100K<n<1M"),
    (10**7, "1M<n<10M"),
    (10**8, "10M<n<100M"),
    (10**9, "100M<n<1B"),
    (10**10, "1B<n<10B"),
    (10**11, "10B<n<100B"),
    (10**12, "100B<n<1T"),
)
# Families whose `cls` is a class to learn (formula-driven supervised learning, real labels);
# elsewhere it is a pseudo-label (a program, a prompt class), and the corpus is for
# representation learning.
_CLASSIFICATION_KINDS = ("fractal", "visualatom", "dataset")


@dataclass(frozen=True)
class Paper:
    """The paper a family (or a dataset) comes from: `short` for one line, `bibtex` for the card."""

    key: str
    short: str
    title: str
    authors: str  # BibTeX's: "Last, First and Last, First"
    venue: str
    year: int
    entry: str = "inproceedings"  # or "article": then `venue` is the journal

    @property
    def bibtex(self) -> str:
        venue = "booktitle" if self.entry == "inproceedings" else "journal"
        return "\n".join(
            [
                f"@{self.entry}{{{self.key},",
                f"  title = {{{self.title}}},",
                f"  author = {{{self.authors}}},",
                f"  {venue} = {{{self.venue}}},",
                f"  year = {{{self.year}}}",
                "}",
            ]
        )


_NEURIPS = "Advances in Neural Information Processing Systems"
# One citation per family (and per fractal mode: the two papers differ); the card cites the one
# its recipe comes from.
PAPERS: dict[str, Paper] = {
    "shader": Paper(
        "baradad2022procedural",
        "Baradad et al., NeurIPS 2022",
        "Procedural Image Programs for Representation Learning",
        (
            "Baradad, Manel and Chen, Chun-Fu and Wulff, Jonas and Wang, Tongzhou and Feris, Rogerio"
            " and Torralba, Antonio and Isola, Phillip"
        ),
        _NEURIPS,
        2022,
    ),
    "noise": Paper(
        "baradad2021learning",
        "Baradad et al., NeurIPS 2021",
        "Learning to See by Looking at Noise",
        "Baradad, Manel and Wulff, Jonas and Wang, Tongzhou and Isola, Phillip and Torralba, Antonio",
        _NEURIPS,
        2021,
    ),
    "gan": Paper(
        "jahanian2022generative",
        "Jahanian et al., ICLR 2022",
        "Generative Models as a Data Source for Multiview Representation Learning",
        "Jahanian, Ali and Puig, Xavier and Tian, Yonglong and Isola, Phillip",
        "International Conference on Learning Representations",
        2022,
    ),
    "diffusion": Paper(
        "tian2023stablerep",
        "Tian et al., NeurIPS 2023",
        "StableRep: Synthetic Images from Text-to-Image Models Make Strong Visual Representation Learners",
        "Tian, Yonglong and Fan, Lijie and Isola, Phillip and Chang, Huiwen and Krishnan, Dilip",
        _NEURIPS,
        2023,
    ),
    "fractal": Paper(
        "kataoka2020pretraining",
        "Kataoka et al., ACCV 2020",
        "Pre-training without Natural Images",
        (
            "Kataoka, Hirokatsu and Okayasu, Kazushige and Matsumoto, Asato and Yamagata, Eisuke"
            " and Yamada, Ryosuke and Inoue, Nakamasa and Nakamura, Akio and Satoh, Yutaka"
        ),
        "Asian Conference on Computer Vision",
        2020,
    ),
    "fractal/1p-frac": Paper(
        "nakamura2024scaling",
        "Nakamura et al., ECCV 2024",
        "Scaling Backwards: Minimal Synthetic Pre-training?",
        (
            "Nakamura, Ryo and Tadokoro, Ryu and Yamada, Ryosuke and Asano, Yuki M. and Laina, Iro"
            " and Rupprecht, Christian and Inoue, Nakamasa and Yokota, Rio and Kataoka, Hirokatsu"
        ),
        "European Conference on Computer Vision",
        2024,
    ),
    "visualatom": Paper(
        "takashima2023visual",
        "Takashima et al., CVPR 2023",
        "Visual Atoms: Pre-training Vision Transformers with Sinusoidal Waves",
        "Takashima, Sora and Hayamizu, Ryo and Inoue, Nakamasa and Kataoka, Hirokatsu and Yokota, Rio",
        "Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition",
        2023,
    ),
}


@dataclass(frozen=True)
class KnownDataset:
    """A real dataset whose licence synthgen knows, recognised by its folder's name."""

    title: str
    license: str
    licence_note: str
    paper: Paper


KNOWN_DATASETS: dict[str, KnownDataset] = {
    "fashion-mnist": KnownDataset(
        "Fashion-MNIST",
        "mit",
        "Zalando Research releases Fashion-MNIST under the MIT License (github.com/zalandoresearch/fashion-mnist)",
        Paper(
            "xiao2017fashion",
            "Xiao et al., 2017",
            "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms",
            "Xiao, Han and Rasul, Kashif and Vollgraf, Roland",
            "arXiv preprint arXiv:1708.07747",
            2017,
            entry="article",
        ),
    ),
}
# Other spellings of the folder names above.
_DATASET_ALIASES = {"fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist"}


# -- what the recipe says --------------------------------------------------------------------------


def size_category(nsamples: int) -> str:
    """The Hub's size category of a corpus of `nsamples` rows (samples): `n<1K`, `1K<n<10K`, ..."""
    for bound, name in SIZE_CATEGORIES:
        if nsamples < bound:
            return name
    return "n>1T"


def known_dataset(recipe: Mapping[str, Any]) -> KnownDataset | None:
    """The known dataset a `dataset` recipe imports, by its folder's name (None: not known)."""
    spec = str(recipe.get("source", {}).get("dataset", ""))
    path = spec.partition(":")[2].rstrip("/")
    for part in reversed(path.split("/")):
        # The folder of the dataset: skip split folders and shard names below it.
        name = part.lower()
        name = _DATASET_ALIASES.get(name, name)
        if name in KNOWN_DATASETS:
            return KNOWN_DATASETS[name]
        if name not in ("train", "val", "test", "") and not name.endswith((".tar", ".json")) and "{" not in name:
            return None
    return None


def paper_for(recipe: Mapping[str, Any]) -> Paper | None:
    """The paper the corpus's family comes from (for real data: the dataset's, when known)."""
    source = recipe.get("source", {})
    kind = source.get("kind")
    if kind == "dataset":
        found = known_dataset(recipe)
        return None if found is None else found.paper
    if kind == "fractal" and source.get("mode") == "1p-frac":
        return PAPERS["fractal/1p-frac"]
    return PAPERS.get(str(kind))


def license_for(recipe: Mapping[str, Any]) -> tuple[str, str]:
    """(the licence identifier for the front matter, the card's paragraph saying what is known)."""
    source = recipe.get("source", {})
    kind = source.get("kind")
    given = recipe.get("license")
    if kind == "dataset":
        found = known_dataset(recipe)
        if given is not None:
            return str(given), f"`{given}`, as the import set it (`synthgen import --license`)."
        if found is not None:
            return found.license, (
                f"`{found.license}`: {found.licence_note}; synthgen takes this from the folder's name "
                f"({_code(_dataset_spec(recipe))}): check it if that folder holds other data."
            )
        return UNKNOWN_LICENSE, (
            "`unknown`: these are real images, and synthgen does not know their licence; the terms of the "
            "dataset's owner apply. Name it with `synthgen import --license ID` (a Hub licence identifier)."
        )
    origin = _origin(kind, source)
    if given is not None:
        return str(given), f"`{given}`, as the recipe sets it (`license: {given}`). {origin}".rstrip()
    return DEFAULT_LICENSE, (
        f"`{DEFAULT_LICENSE}`: the recipe sets no `license`, so whoever made the corpus decides; set one in the "
        f"recipe (e.g. `license: cc-by-4.0`, a Hub licence identifier) and the card says it. {origin}"
    ).rstrip()


def _origin(kind: Any, source: Mapping[str, Any]) -> str:
    """What is known about where a synthetic corpus's images come from, for the licence paragraph."""
    if kind == "shader":
        known = []
        for entry in source.get("programs", []):
            if not isinstance(entry, Mapping):
                continue
            if entry.get("builtin") is not None:
                known.append(
                    f"the programs of `builtin: {entry['builtin']}` are bundled with synthgen, MIT-licensed and "
                    "written for it (each program's `// licence:` header says so)"
                )
            elif entry.get("path") is not None:
                known.append(
                    f"the programs from {_code(str(entry['path']))} carry their own licences (a program's "
                    "`// licence:` header, or Shadertoy's `info.license`): check them before sharing the images"
                )
            elif entry.get("generate") is not None:
                known.append(
                    f"{entry['generate']} programs are made by synthgen's program generator (seed {entry.get('seed')})"
                )
        text = "; ".join(known)
        return (
            f"What is known: {text}. A program's licence covers its code; it does not decide the licence of the "
            "images rendered from it."
            if text
            else ""
        )
    if kind == "gan":
        if source.get("init") is not None and source.get("checkpoint") is None:
            return (
                f"What is known: the images come from an untrained generator (`init: {source['init']}`, random "
                "weights): no image data goes in."
            )
        named = source.get("checkpoint") or source.get("generator")
        return (
            f"What is known: the images come from the generator the recipe names ({_code(str(named))}); the licence "
            "of its code and weights, and of the data it was trained on, may bind them: check them."
        )
    if kind == "diffusion":
        return (
            f"What is known: the images come from the text-to-image model {_code(str(source.get('model')))}; "
            "its licence (on its model card) may restrict how they are used: check it."
        )
    if kind in ("noise", "fractal", "visualatom"):
        return (
            "What is known: the images are computed from formulas and seeded random numbers only: no image data "
            "goes in."
        )
    return ""


def _dataset_spec(recipe: Mapping[str, Any]) -> str:
    return str(recipe.get("source", {}).get("dataset", ""))


def _code(text: str) -> str:
    """`text` as inline Markdown code (a fence longer than any run of backticks in it)."""
    text = printable(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}" if longest else f"`{text}`"


def _fenced(text: str, info: str) -> str:
    """A fenced Markdown code block of `text` (a fence longer than any run of backticks in it)."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


# -- the card --------------------------------------------------------------------------------------


def front_matter(manifest: Manifest) -> dict[str, Any]:
    """The card's YAML front matter (the Hub's fields, then synthgen's own)."""
    recipe = manifest.recipe
    kind = str(recipe.get("source", {}).get("kind"))
    real = kind == "dataset"
    paper = paper_for(recipe)
    tasks = (
        ["image-classification", "image-feature-extraction"]
        if kind in _CLASSIFICATION_KINDS
        else ["image-feature-extraction"]
    )
    tags = ["synthgen", "webdataset"] + (["real-images"] if real else ["synthetic", kind])
    return {
        "pretty_name": manifest.name,
        "license": license_for(recipe)[0],
        "size_categories": [size_category(manifest.nsamples)],
        "task_categories": tasks,
        "tags": tags,
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": SHARD_PATTERN}]}],
        "synthgen": {
            "recipe": manifest.name,
            "recipe_sha256": manifest.recipe_sha256,
            "kind": kind,
            "real_data": real,
            "cites": None if paper is None else paper.short,
            "synthgen_version": manifest.synthgen_version,
        },
    }


def render_card(manifest: Manifest) -> str:
    """The README.md of the corpus of `manifest`: a pure function of it (no clock, no path), so the
    same corpus always has the same card, whether the render or `push` writes it."""
    recipe = manifest.recipe
    source = recipe.get("source", {})
    kind = str(source.get("kind"))
    real = kind == "dataset"
    fmt = manifest.image_format
    size = manifest.image_size
    paper = paper_for(recipe)
    licence_text = license_for(recipe)[1]
    header = yaml.safe_dump(front_matter(manifest), sort_keys=False, allow_unicode=True, default_flow_style=False)
    if real:
        what = (
            f"Real images, not synthetic: the {source.get('split', 'train')} split of "
            f"{_code(_dataset_spec(recipe))}, written as a corpus by `synthgen import`"
        )
    else:
        what = f"A synthetic image corpus of the `{kind}` family, rendered by synthgen"
        if paper is not None:
            what += f" after *{paper.title}* ({paper.short})"
    first, last = _shard_range(manifest)
    redrawn = sum(manifest.failures.values())
    failures = ", ".join(f"{n} {reason}" for reason, n in manifest.failures.items())
    rows = [
        ("samples", f"{manifest.nsamples:,}"),
        ("views per sample", f"{manifest.views} ({manifest.nimages:,} images)"),
        ("images", f"{size[0]}x{size[1]} {fmt}" if size is not None else fmt),
        ("shards", f"{manifest.nshards} (`{first}` to `{last}`)" if manifest.nshards > 1 else f"1 (`{first}`)"),
        ("bytes", f"{manifest.filesize:,}"),
        ("failed draws, redrawn", f"{redrawn} ({failures})" if redrawn else "none"),
        ("recipe sha256", f"`{manifest.recipe_sha256}`"),
        ("synthgen", manifest.synthgen_version),
    ]
    if manifest.excluded:
        rows.insert(6, ("programs excluded", str(len(manifest.excluded))))
    lines = [
        "---",
        header.rstrip(),
        "---",
        CARD_MARKER,
        "",
        f"# {manifest.name}",
        "",
        f"{what}. Each sample is one group: all views of one underlying thing, stored together in a "
        "WebDataset sample. `manifest.json` (written last) lists the shards with their sizes and sha256, and is "
        "also a wids index; each shard's sidecar (`shard-NNNNNN.json`) records how it was rendered.",
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        "## Fields",
        "",
        "| field | what |",
        "|---|---|",
        *_field_rows(kind, fmt, manifest.views),
        "",
        "## Loading",
        "",
        *_loading(manifest, first, last),
        "## Licence",
        "",
        licence_text,
        "",
        "## Citation",
        "",
        *_citation(real, paper),
        "## Recipe",
        "",
        f"The resolved recipe, every default filled in, as `manifest.json` records it; sha256 "
        f"`{manifest.recipe_sha256}`, which every sample's `json` and every sidecar record too.",
        "",
        _fenced(yaml.safe_dump(recipe, sort_keys=True, allow_unicode=True, default_flow_style=False), "yaml"),
        "",
    ]
    return "\n".join(lines)


def _shard_range(manifest: Manifest) -> tuple[str, str]:
    names = [entry.url for entry in manifest.shardlist] or ["shard-000000.tar"]
    return names[0], names[-1]


def _field_rows(kind: str, fmt: str, views: int) -> list[str]:
    rows = [f"| `{fmt}` | view 0: the image |"]
    if views > 1:
        rows.append(f"| `view1.{fmt}` ... `view{views - 1}.{fmt}` | the further views of the sample |")
    rows.append("| `json` | metadata: key, index, recipe, recipe_sha256, kind, seed and the sample's parameters |")
    meaning = {
        "shader": "the program's number",
        "gan": "the generator's class, where it has classes",
        "diffusion": "the prompt's class, where the prompts have classes",
        "fractal": "the category (the formula)",
        "visualatom": "the class (the formula)",
        "dataset": "the label",
    }.get(kind)
    if meaning is not None:
        rows.append(f"| `cls` | an integer: {meaning} |")
    if kind == "diffusion":
        rows.append("| `txt` | the prompt |")
    return rows


def _loading(manifest: Manifest, first: str, last: str) -> list[str]:
    """The loading snippets (tests/test_card.py runs each, with `corpus` set to the folder)."""
    fmt = manifest.image_format
    folder = f'corpus = "path/to/{manifest.name}"  # this folder: where it was rendered or downloaded'
    start, stop = (SHARD_TAR.match(name) for name in (first, last))
    pattern = (
        f"/shard-{{{start['index']}..{stop['index']}}}.tar" if start is not None and stop is not None else f"/{first}"
    )
    webdataset = "\n".join(
        [
            "import webdataset as wds",
            "",
            folder,
            f'dataset = wds.WebDataset(corpus + "{pattern}", shardshuffle=False).decode("pil")',
            "for sample in dataset:",
            f'    image, meta = sample["{fmt}"], sample["json"]  # a PIL image, a dict',
        ]
    )
    wids = "\n".join(
        [
            "from functools import partial",
            "",
            "import wids",
            "from wids.wids import default_decoder",
            "",
            folder,
            "# An explicit decoder: wids warns that its default, the string \"PIL\", is deprecated.",
            'decode = partial(default_decoder, format="PIL")',
            'dataset = wids.ShardListDataset(corpus + "/manifest.json", transformations=decode)',
            "sample = dataset[0]",
            f'image, meta = sample[".{fmt}"], sample[".json"]  # a PIL image, a dict',
        ]
    )
    hugging_face = "\n".join(
        [
            "from datasets import load_dataset",
            "",
            folder,
            'dataset = load_dataset(corpus, split="train")  # this card\'s `configs` name the shards',
            "# or name the shards yourself:",
            f'dataset = load_dataset("webdataset", data_files={{"train": corpus + "/{SHARD_PATTERN}"}}, split="train")',
            "row = dataset[0]",
            f'image, meta = row["{fmt}"], row["json"]  # a PIL image, a dict',
        ]
    )
    return [
        "With [webdataset](https://github.com/webdataset/webdataset), streaming:",
        "",
        _fenced(webdataset, "python"),
        "",
        "With [wids](https://github.com/webdataset/webdataset), by index (`manifest.json` is a wids shard index):",
        "",
        _fenced(wids, "python"),
        "",
        "With Hugging Face [datasets](https://huggingface.co/docs/datasets): the folder itself, through this card's "
        "`configs`, or the shards; uploaded to the Hub as a dataset repository, it loads by its name the same way:",
        "",
        _fenced(hugging_face, "python"),
        "",
        "synthgen reads it as it is: `synthgen inspect FOLDER`, `synthgen verify FOLDER`, "
        "`synthgen train --data FOLDER`.",
        "",
    ]


def _citation(real: bool, paper: Paper | None) -> list[str]:
    if paper is None:
        if real:
            return ["Cite the dataset these images come from, as its owner asks.", ""]
        return ["No paper is recorded for this family.", ""]
    lead = "Cite the dataset:" if real else f"This family of images comes from *{paper.title}* ({paper.short}):"
    return [lead, "", _fenced(paper.bibtex, "bibtex"), ""]


# -- writing, removing and reading -----------------------------------------------------------------


def is_synthgen_card(data: bytes) -> bool:
    """Whether README.md bytes are a card synthgen wrote (and the user has not claimed)."""
    return CARD_SIGNATURE.encode() in data[:MAX_CARD_BYTES]


def foreign_card(dest: Destination) -> bool:
    """Whether `dest` holds a README.md that is not synthgen's card (the user's own: left alone)."""
    info = dest.info(CARD_NAME)
    if info is None:
        return False
    if int(info.get("size", 0)) > MAX_CARD_BYTES:
        return True
    return not is_synthgen_card(dest.read_bytes(CARD_NAME))


def write_card(dest: Destination, manifest: Manifest) -> bool:
    """Write the card of `manifest` as README.md in `dest` (atomically), unless a README.md that is
    not synthgen's is there: that one is left alone, with a warning. Returns whether it wrote.
    The render calls it after the shards and before the manifest (which is written last)."""
    if foreign_card(dest):
        logger.warning(
            "%s: %s is not synthgen's dataset card: left alone, no card written (move it away to get one)",
            dest.url,
            CARD_NAME,
        )
        return False
    dest.write_bytes(CARD_NAME, render_card(manifest).encode())
    return True


def remove_card(dest: Destination) -> None:
    """Remove the card from `dest` if it is synthgen's (--overwrite); another README.md stays."""
    if dest.exists(CARD_NAME) and not foreign_card(dest):
        dest.remove(CARD_NAME)


def read_card(dest: Destination) -> dict[str, Any] | None:
    """What the README.md of `dest` says (None without one): `{file, synthgen, license, cites,
    front_matter, problem}`. `synthgen`: whether it is synthgen's card; `problem`: why its front
    matter could not be read (it never fails the caller: a card is documentation)."""
    info = dest.info(CARD_NAME)
    if info is None:
        return None
    found: dict[str, Any] = {
        "file": CARD_NAME,
        "synthgen": False,
        "license": None,
        "cites": None,
        "front_matter": None,
        "problem": None,
    }
    if int(info.get("size", 0)) > MAX_CARD_BYTES:
        found["problem"] = f"larger than {MAX_CARD_BYTES:,} bytes: not read"
        return found
    try:
        data = dest.read_bytes(CARD_NAME)
        found["synthgen"] = is_synthgen_card(data)
        matter = parse_front_matter(data.decode("utf-8"))
    except (SynthgenError, UnicodeDecodeError, yaml.YAMLError, ValueError) as err:
        found["problem"] = printable(" ".join(str(err).split()))[:200] or type(err).__name__
        return found
    if matter is None:
        found["problem"] = "no YAML front matter"
        return found
    found["front_matter"] = matter
    licence = matter.get("license")
    found["license"] = printable(str(licence)) if licence is not None else None
    ours = matter.get("synthgen")
    cites = ours.get("cites") if isinstance(ours, dict) else None
    found["cites"] = printable(str(cites)) if cites is not None else None
    return found


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?P<yaml>.*?)^---[ \t]*$", re.DOTALL | re.MULTILINE)


def parse_front_matter(text: str) -> dict[str, Any] | None:
    """The YAML front matter of a Markdown text (None when it has none): safe-loaded, no aliases
    (a card needs none, and an alias bomb would blow up as JSON), a mapping. ValueError otherwise."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None
    block = match["yaml"]
    if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(block)):
        raise ValueError("the front matter uses YAML aliases")
    document = load_yaml(block)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ValueError(f"the front matter is a {type(document).__name__}, not a mapping")
    return document


def card_line(card: Mapping[str, Any] | None) -> str:
    """The `card` line of `synthgen inspect`."""
    if card is None:
        return f"card       none (no {CARD_NAME}: a corpus written before synthgen wrote dataset cards)"
    whose = "" if card.get("synthgen") else ", not synthgen's"
    if card.get("problem"):
        return f"card       {CARD_NAME} ({card['problem']}{whose})"
    cites = f", cites {card['cites']}" if card.get("cites") else ""
    return f"card       {CARD_NAME} (licence {card.get('license') or 'not given'}{cites}{whose})"


__all__ = [
    "CARD_NAME",
    "CARD_SIGNATURE",
    "KNOWN_DATASETS",
    "PAPERS",
    "card_line",
    "foreign_card",
    "front_matter",
    "is_synthgen_card",
    "license_for",
    "paper_for",
    "parse_front_matter",
    "read_card",
    "remove_card",
    "render_card",
    "size_category",
    "write_card",
]
