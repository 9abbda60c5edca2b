"""Process cards: what to generate, as data.

A process card is a YAML file (validated by :class:`ProcessCard`) holding Pythia
``readString`` lines shared by all samples, one entry per sample (a physics class with its
label and its own Pythia lines, optionally a truth-matching requirement), the jet
definition and the selection. heplearn ships the cards the field uses
(``heplearn/simulate/cards/*.yaml``); users pass the path of their own YAML file wherever a
process name is accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from heplearn.errors import InputFileError, InvalidCardError, UnknownNameError

__all__ = [
    "Match",
    "Sample",
    "JetDefinition",
    "Selection",
    "MuonSelection",
    "ProcessCard",
    "load_process_card",
    "process_names",
]

CARD_DIR = Path(__file__).with_name("cards")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Strict):
    """Truth matching of a jet to a decaying resonance (Kasieczka et al., arXiv:1902.09914).

    A jet is matched when the resonance (last copy before its decay) and every quark from
    its decay chain (e.g. t → b W, W → q q') lie within ``max_dr`` of the jet axis.
    """

    pid: int = Field(description="|PDG id| of the resonance, e.g. 6 for top, 24 for W")
    max_dr: float = Field(0.8, gt=0)


class Sample(_Strict):
    """One physics class of a process: its label and its Pythia lines."""

    name: str
    label: int = Field(ge=0)
    pythia: list[str] = Field(default_factory=list)
    match: Match | None = None


class JetDefinition(_Strict):
    """Clustering with FastJet (Cacciari, Salam, Soyez, arXiv:0802.1189, 1111.6097)."""

    algorithm: Literal["antikt", "kt", "cambridge"] = "antikt"
    R: float = Field(gt=0, le=2.0)
    pt_min: float = Field(20.0, ge=0, description="minimum jet pT kept by clustering (GeV)")


class Selection(_Strict):
    """Which jets of an event are kept.

    ``leading``: the hardest jet, if it passes the cuts (one jet per event);
    ``all``: every jet passing the cuts; ``dijet``: the two hardest jets, if the hardest
    passes the cuts (``mjj`` is recorded).
    """

    mode: Literal["leading", "all", "dijet"] = "leading"
    pt_min: float = 0.0
    pt_max: float | None = None
    abs_eta_max: float | None = None
    abs_rapidity_max: float | None = None
    max_constituents: int | None = Field(None, gt=0)


class MuonSelection(_Strict):
    """Events need an opposite-charge muon pair passing these cuts; the pair is recorded
    (``dimuon_*`` fields) and the muons are removed from jet clustering."""

    pt_min: float = 25.0
    abs_eta_max: float = 2.5


class ProcessCard(_Strict):
    """A process card (see module docstring). Loaded once, validated at the boundary."""

    name: str
    description: str
    reference: str = Field(description="the dataset or paper this card mirrors")
    sqrt_s: float = Field(14000.0, gt=0, description="centre-of-mass energy in GeV")
    pythia: list[str] = Field(default_factory=list)
    samples: list[Sample] = Field(min_length=1)
    jets: JetDefinition
    selection: Selection = Selection()
    muons: MuonSelection | None = None
    batch_events: int = Field(200, gt=0, description="events per Pythia nextBatch call")

    @field_validator("samples")
    @classmethod
    def _unique_samples(cls, samples: list[Sample]) -> list[Sample]:
        names = [s.name for s in samples]
        if len(set(names)) != len(names):
            raise ValueError(f"sample names must be unique, got {names}")
        return samples

    @field_validator("pythia")
    @classmethod
    def _no_seed_lines(cls, lines: list[str]) -> list[str]:
        for line in lines:
            if line.replace(" ", "").lower().startswith(("random:seed", "random:setseed")):
                raise ValueError(
                    f"{line!r}: seeds come from the dataset seed (--seed), not from the card"
                )
        return lines

    @property
    def labels(self) -> dict[int, str]:
        return {s.label: s.name for s in self.samples}

    @classmethod
    def cast(cls, card: ProcessCard | dict[str, Any] | str | Path) -> ProcessCard:
        """Accept a card, a dict, a shipped process name or a YAML path."""
        if isinstance(card, ProcessCard):
            return card
        if isinstance(card, dict):
            return _validate(card, source="process card")
        return load_process_card(card)


def _validate(data: Any, source: str) -> ProcessCard:
    if not isinstance(data, dict):
        raise InvalidCardError(f"{source}: expected a mapping of card fields")
    try:
        return ProcessCard.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<card>'}: {e['msg']}" for e in err.errors()
        )
        raise InvalidCardError(f"{source}: invalid process card: {problems}") from None


def process_names() -> list[str]:
    """Names of the process cards shipped with heplearn."""
    return sorted(p.stem for p in CARD_DIR.glob("*.yaml"))


def load_process_card(name_or_path: str | Path) -> ProcessCard:
    """Load a shipped card by name (``top``, ``qg``, ...) or a user card from a YAML path."""
    path = Path(name_or_path)
    # a YAML suffix or an existing file is a user card; anything else is a shipped name
    # (a directory that happens to be called "top", e.g. an --out directory, is not a card)
    if path.suffix.lower() in {".yaml", ".yml"} or path.is_file():
        if not path.is_file():
            raise InputFileError(f"process card {str(path)!r} does not exist")
    else:
        path = CARD_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise UnknownNameError(
                f"Unknown process {str(name_or_path)!r}. Known processes: "
                f"{', '.join(process_names())} (or give the path of a YAML card)"
            )
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise InvalidCardError(f"{path}: not valid YAML ({err})") from None
    return _validate(data, source=str(path))
