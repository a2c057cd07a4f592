"""synthgen: recipes in, fixed-size synthetic image corpora out (WebDataset shards)."""

__version__ = "0.1.0"
