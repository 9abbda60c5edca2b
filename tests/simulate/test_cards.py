import pytest

from heplearn.errors import InputFileError, InvalidCardError, UnknownNameError
from heplearn.simulate.cards import ProcessCard, load_process_card, process_names

SHIPPED = ["dijet-resonance", "minbias", "qg", "qg-mixtures", "top", "w", "zjets"]


def test_shipped_cards_load_and_cite_their_source():
    assert process_names() == SHIPPED
    for name in SHIPPED:
        card = load_process_card(name)
        assert card.name == name
        assert "arXiv" in card.reference


def test_top_card_mirrors_the_reference_dataset():
    card = load_process_card("top")
    assert card.jets.R == 0.8 and card.jets.algorithm == "antikt"
    assert (card.selection.pt_min, card.selection.pt_max) == (550, 650)
    assert card.selection.abs_eta_max == 2.0 and card.selection.max_constituents == 200
    assert "PartonLevel:MPI = off" in card.pythia
    assert card.labels == {0: "qcd", 1: "top"}
    assert card.samples[1].match.pid == 6 and card.samples[1].match.max_dr == 0.8


def test_qg_mixtures_card_shares_the_qg_jets():
    """The physical CWoLa mixtures must select jets exactly as the labelled qg card."""
    qg, mix = load_process_card("qg"), load_process_card("qg-mixtures")
    assert mix.jets == qg.jets and mix.selection == qg.selection and mix.sqrt_s == qg.sqrt_s
    assert mix.labels == {0: "dijet", 1: "zjet"}


def test_unknown_process_lists_known_ones():
    with pytest.raises(UnknownNameError, match="Unknown process 'ttbar'. Known processes: dij"):
        load_process_card("ttbar")


def test_user_card_from_yaml(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: mine\ndescription: d\nreference: arXiv:0000.00000\n"
        "samples: [{name: qcd, label: 0, pythia: ['HardQCD:all = on']}]\n"
        "jets: {R: 0.4}\n"
    )
    card = load_process_card(path)
    assert card.name == "mine" and card.selection.mode == "leading"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("name: x\nreference: r\nsamples: []\njets: {R: 0.4}\n", "description"),
        ("name: x\ndescription: d\nreference: r\nsamples: []\njets: {R: 0.4}\n", "samples"),
        (
            "name: x\ndescription: d\nreference: r\njets: {R: -1}\n"
            "samples: [{name: a, label: 0}]\n",
            "jets.R",
        ),
        (
            "name: x\ndescription: d\nreference: r\njets: {R: 0.4}\npythia: ['Random:seed = 3']\n"
            "samples: [{name: a, label: 0}]\n",
            "seeds come from the dataset seed",
        ),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_invalid_cards_name_the_field(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(InvalidCardError, match=message) as err:
        load_process_card(path)
    assert "bad.yaml" in str(err.value)


def test_missing_card_file():
    with pytest.raises(InputFileError, match="nothere.yaml"):
        load_process_card("nothere.yaml")


def test_cast_accepts_dict_and_card():
    card = load_process_card("qg")
    assert ProcessCard.cast(card) is card
    assert ProcessCard.cast(card.model_dump()) == card


def test_a_directory_named_like_a_process_is_not_a_card(tmp_path, monkeypatch):
    # e.g. after `heplearn generate top --out top`, "top" must still mean the shipped card
    monkeypatch.chdir(tmp_path)
    (tmp_path / "top").mkdir()
    assert load_process_card("top").name == "top"
