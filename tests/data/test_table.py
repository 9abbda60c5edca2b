import awkward as ak
import numpy as np
import pytest

from heplearn.data import from_constituents, validate_jet_table
from heplearn.errors import InvalidJetTable


def _two_jets():
    # jet 0: two massless back-to-back-in-phi-plane-free particles; jet 1: one particle
    px = np.array([10.0, 30.0, 5.0])
    py = np.array([0.0, 0.0, 5.0])
    pz = np.array([0.0, 0.0, 0.0])
    E = np.array([10.0, 30.0, np.sqrt(50.0)])
    return px, py, pz, E, np.array([2, 1])


def test_from_constituents_sums_and_orders():
    px, py, pz, E, counts = _two_jets()
    t = from_constituents(px, py, pz, E, counts, label=[1, 0])
    assert t.fields[:5] == ["pt", "eta", "phi", "mass", "label"]
    assert t.pt[0] == pytest.approx(40.0)
    assert t.mass[0] == pytest.approx(0.0, abs=1e-6)  # collinear massless pair
    assert ak.to_list(t.constituents.px[0]) == [30.0, 10.0]  # hardest first
    assert t.phi[1] == pytest.approx(np.pi / 4)
    assert ak.to_list(t.label) == [1, 0]
    validate_jet_table(t)


def test_max_constituents_truncates_softest():
    px, py, pz, E, counts = _two_jets()
    t = from_constituents(px, py, pz, E, counts, max_constituents=1)
    assert ak.to_list(ak.num(t.constituents, axis=1)) == [1, 1]
    assert t.pt[0] == pytest.approx(30.0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("E", np.nan, "NaN"), ("E", -1.0, "negative"), ("px", np.inf, "NaN")],
)
def test_validate_rejects_bad_constituents(field, value, message):
    px, py, pz, E, counts = _two_jets()
    arrays = {"px": px, "py": py, "pz": pz, "E": E}
    arrays[field] = arrays[field].copy()
    arrays[field][2] = value
    t = from_constituents(**arrays, counts=counts)
    with pytest.raises(InvalidJetTable, match=message) as err:
        validate_jet_table(t, source="my.h5")
    assert "my.h5" in str(err.value) and "jet 1" in str(err.value)


def test_validate_rejects_empty_jet():
    px, py, pz, E, _ = _two_jets()
    t = from_constituents(px, py, pz, E, np.array([3, 0]))
    with pytest.raises(InvalidJetTable, match="jet 1 has no constituents"):
        validate_jet_table(t)
