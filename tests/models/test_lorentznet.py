"""LorentzNet's node scalars against hand computations (arXiv:2201.08187 and its reference code)."""

from __future__ import annotations

import math

import pytest
import torch

from heplearn import models

# one jet of two particles, (E, px, py, pz) in GeV, and one padded slot (trimmed away)
VECTORS = torch.tensor([[[5.0, 0.0, 0.0, 3.0], [13.0, 12.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]])
MASK = torch.tensor([[True, True, False]])


def _scalars(beams):
    model = models.create("lorentznet", preset="small", beams=beams).double()
    _, s, mask = model._nodes({"vectors": VECTORS.double(), "mask": MASK})
    return s, mask


def test_particle_masses_enter_through_psi():
    # m = sqrt(25 - 9) = 4 and sqrt(169 - 144) = 5; ψ(m) = log(1 + m)
    s, mask = _scalars(None)
    assert mask.tolist() == [[True, True]]
    assert s[0, :, 0].tolist() == pytest.approx([math.log(5.0), math.log(6.0)])


def test_spurion_scalars_split_psi_of_the_mass_into_particle_and_beam_columns():
    # spurions (sqrt(2), 0, 0, ±1) have mass 1, so their beam column is ψ(1) = log 2
    s, mask = _scalars("spurions")
    assert mask.tolist() == [[True, True, True, True]]
    expected = [
        [0.0, math.log(2.0)],
        [0.0, math.log(2.0)],
        [math.log(5.0), 0.0],
        [math.log(6.0), 0.0],
    ]
    assert s[0].tolist() == [pytest.approx(row) for row in expected]


def test_transverse_scalars_are_psi_of_mass_and_of_transverse_mass_squared():
    # m_T² = E² - pz²: 25 - 9 = 16 and 169 - 0 = 169
    s, _ = _scalars("transverse")
    assert s[0, :2].tolist() == [
        pytest.approx([math.log(5.0), math.log(17.0)]),
        pytest.approx([math.log(6.0), math.log(170.0)]),
    ]
