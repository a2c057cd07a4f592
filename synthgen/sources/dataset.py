"""The `dataset` source's recipe section: real labelled images, written as a corpus.

    source: {kind: dataset, dataset: "idx:/usr/share/datasets/fashion-mnist", split: train, limit: 5000}

Sample i is the i-th image of the split (file order, after the stratified `limit`), `cls` its
label. `synthgen import` writes such a recipe in memory; see synthgen/realdata.py.

Only the config model lives here. The implementation (`synthgen.realdata:DatasetSource`) reads
the data with synthgen.evaluate.datasets, and synthgen.evaluate depends on synthgen.sources
(through synthgen.train): importing it from inside this package, even inside a function, would
join the packages into an import cycle. The registry names the implementation by string, as it
names every family's, so a recipe validates without loading the data reader.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from synthgen.schema import StrictModel, document_spec

# The spec schemes synthgen.evaluate.datasets reads (its SCHEMES; a test keeps the two equal).
DATASET_SCHEMES = ("imagefolder", "wds", "idx")


class DatasetSourceConfig(StrictModel):
    kind: Literal["dataset"]
    # A dataset SPEC as `synthgen eval --dataset` reads it: imagefolder:DIR, idx:DIR or wds:URL.
    dataset: str = Field(min_length=1)
    # val: the val/ (or test/) folder, or the t10k files, of data that comes split; else the
    # seeded, stratified 20% that `synthgen eval` holds out with the same seed. all: train, then val.
    split: Literal["train", "val", "all"] = "train"
    # Keep this many images of the split, classes in proportion (seeded by the recipe seed).
    limit: int | None = Field(None, ge=1)

    @field_validator("dataset")
    @classmethod
    def _resolve(cls, value: str, info: ValidationInfo) -> str:
        """A local path relative to the recipe file's folder becomes absolute, so that the
        resolved recipe (and its hash) names exactly the files read; URLs stay as written."""
        scheme, sep, path = value.partition(":")
        if not sep or scheme not in DATASET_SCHEMES or not path:
            raise ValueError(f"expected imagefolder:DIR, idx:DIR or wds:URL_OR_PATTERN, got {value!r}")
        return document_spec(value, info)
