import numpy as np
import pytest
import torch

from heplearn.training.losses import class_balance_weights, focal_loss, weighted_cross_entropy


def test_focal_loss_with_gamma_zero_is_cross_entropy():
    logits = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    labels = torch.randint(0, 2, (50,), generator=torch.Generator().manual_seed(1))
    w = torch.rand(50, generator=torch.Generator().manual_seed(2))
    ce = weighted_cross_entropy(logits, labels, w)
    assert focal_loss(logits, labels, w, gamma=0.0).item() == pytest.approx(ce.item())


def test_focal_loss_hand_value():
    # one event, p_t = sigmoid(1) for label 1 with logits (0, 1)
    logits, labels = torch.tensor([[0.0, 1.0]]), torch.tensor([1])
    pt = 1 / (1 + np.exp(-1.0))
    expected = -0.25 * (1 - pt) ** 2 * np.log(pt)
    got = focal_loss(logits, labels, gamma=2.0, alpha=0.25).item()
    assert got == pytest.approx(expected, rel=1e-6)
    # label 0 gets 1 - alpha
    got0 = focal_loss(logits, torch.tensor([0]), gamma=2.0, alpha=0.25).item()
    assert got0 == pytest.approx(-0.75 * pt**2 * np.log(1 - pt), rel=1e-6)


def test_focal_loss_down_weights_easy_events():
    easy = torch.tensor([[-4.0, 4.0]])  # confidently right
    hard = torch.tensor([[0.5, -0.5]])  # wrong
    y = torch.tensor([1])
    ratio_ce = weighted_cross_entropy(easy, y) / weighted_cross_entropy(hard, y)
    ratio_fl = focal_loss(easy, y, gamma=2.0) / focal_loss(hard, y, gamma=2.0)
    assert ratio_fl < 1e-3 * ratio_ce


def test_class_balance_weights_equalise_class_totals():
    labels = np.array([1] + [0] * 99)
    w = class_balance_weights(labels)
    assert w[labels == 1].sum() == pytest.approx(w[labels == 0].sum())
    assert w.sum() == pytest.approx(100)
    ev = np.linspace(1, 2, 100)
    wv = class_balance_weights(labels, ev)
    assert wv[labels == 1].sum() == pytest.approx(wv[labels == 0].sum())
    assert wv[1] / wv[2] == pytest.approx(ev[1] / ev[2])  # within a class, ratios kept
    from heplearn.training.config import InvalidConfigError

    for bad in (np.array([1.0, 1.0, 0.0, 0.0]), np.array([1.0, 1.0, np.nan, 1.0])):
        with pytest.raises(InvalidConfigError, match="class 1 have total weight"):
            class_balance_weights(np.array([0, 0, 1, 1]), bad)


def test_focal_and_balanced_training_run_and_bdt_refuses_focal(tmp_path, toy_table):
    from heplearn.training import TrainConfig, build_inputs, required_inputs, split_indices
    from heplearn.training.config import InvalidConfigError
    from heplearn.training.engine import subset, train_on_arrays

    config = TrainConfig.cast(
        model="pfn",
        loss="focal",
        focal_alpha=0.25,
        balance_classes=True,
        epochs=1,
        batch_size=64,
        max_particles=16,
        progress=False,
    )
    arrays = build_inputs(toy_table, required_inputs(["pfn", "bdt"]), config)
    s = split_indices(len(toy_table), 0.2, 0.2, 1)
    tr, va = subset(arrays, s["train"]), subset(arrays, s["val"])
    result = train_on_arrays(tr, va, config, tmp_path / "focal")
    assert np.isfinite(result.best_val_loss)
    with pytest.raises(InvalidConfigError, match="loss='focal' needs a torch model"):
        train_on_arrays(tr, va, TrainConfig.cast(config, model="bdt"), tmp_path / "bdt")
