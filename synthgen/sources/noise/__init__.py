"""The `noise` family: dead leaves and statistical image models (Learning to See by Looking at Noise)."""
