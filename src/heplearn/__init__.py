"""heplearn: machine learning for particle physics.

The package import is cheap: Pythia, FastJet, torch and matplotlib are imported only by the
modules that use them.
"""

from __future__ import annotations

from heplearn.errors import HeplearnError

__version__ = "0.1.0"

__all__ = ["HeplearnError", "__version__"]
