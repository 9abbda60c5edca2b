"""Physics as pure functions on arrays: kinematics and jet observables."""

from __future__ import annotations

from heplearn.physics.kinematics import *  # noqa: F403
from heplearn.physics.kinematics import __all__ as _kinematics_all
from heplearn.physics.observables import *  # noqa: F403
from heplearn.physics.observables import __all__ as _observables_all

__all__ = [*_kinematics_all, *_observables_all]
