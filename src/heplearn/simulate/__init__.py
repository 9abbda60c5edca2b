"""Simulation: process cards, Pythia8, a fast detector, pileup, FastJet clustering, truth
matching and parallel dataset generation."""

from __future__ import annotations

from heplearn.simulate.cards import ProcessCard, load_process_card, process_names
from heplearn.simulate.detector import DetectorCard, detector_names, get_detector
from heplearn.simulate.generate import generate, generate_shard

__all__ = [
    "DetectorCard",
    "ProcessCard",
    "detector_names",
    "generate",
    "generate_shard",
    "get_detector",
    "load_process_card",
    "process_names",
]
