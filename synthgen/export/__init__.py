"""From rendered samples to a corpus: image encoding, tar shards and manifest, storage."""
