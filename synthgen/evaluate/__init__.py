"""Evaluation of frozen encoders on real labelled data: datasets, features, probes."""
