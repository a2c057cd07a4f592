"""Studies: render several corpora, pretrain on each, and compare them on real data."""

from synthgen.experiment.config import Experiment, ExperimentError, load_experiment
from synthgen.experiment.run import run_experiment

__all__ = ["Experiment", "ExperimentError", "load_experiment", "run_experiment"]
