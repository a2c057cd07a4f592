"""The on-disk corpus: its format (format.py), tar shards, storage, and the readers built on them
(open, inspect, preview, verify, push). Data flows one way: this package imports no render, train
or evaluate code; they import it."""

from synthgen.corpus.format import MANIFEST_NAME, Manifest, ShardEntry, ShardRecord
from synthgen.corpus.read import Corpus
from synthgen.corpus.storage import Destination
from synthgen.corpus.tar import ShardWriter, iter_tar_samples

__all__ = [
    "MANIFEST_NAME",
    "Corpus",
    "Destination",
    "Manifest",
    "ShardEntry",
    "ShardRecord",
    "ShardWriter",
    "iter_tar_samples",
]
