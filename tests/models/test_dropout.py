"""The cheap-mask inverted dropout of :mod:`heplearn.models.layers` and ParT's use of it."""

import pytest
import torch

from heplearn.models.layers import Dropout, dropout

from .helpers import build, inputs_of, make_batch


def test_dropout_keeps_the_stated_fraction_and_the_expectation():
    """q = 1 − round(0.1·2¹⁶)/2¹⁶ = 58982/65536; kept values are x/q (so E[out] = x);
    each of the four 16-bit lanes of a 64-bit draw keeps the same fraction."""
    torch.manual_seed(0)
    x = torch.full((1_000_000,), 2.0)
    y = dropout(x, 0.1)
    q = 58982 / 65536
    kept = y != 0
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 2.0 / q))
    sigma = (q * (1 - q) / 1e6) ** 0.5
    assert abs(kept.double().mean().item() - q) < 5 * sigma
    for lane in range(4):  # every fourth element comes from the same 16 bits of a word
        frac = kept[lane::4].double().mean().item()
        assert abs(frac - q) < 5 * sigma * 2
    assert abs(y.double().mean().item() - 2.0) < 5 * 2.0 / q * sigma


def test_dropout_is_seeded_differentiable_and_off_outside_training():
    x = torch.randn(3, 7, 11, requires_grad=True)
    torch.manual_seed(5)
    a = dropout(x, 0.3)
    torch.manual_seed(5)
    b = dropout(x, 0.3)
    assert torch.equal(a, b)
    a.sum().backward()  # d out / d x = keep / q
    q = 1 - round(0.3 * 65536) / 65536
    torch.testing.assert_close(x.grad, (a != 0).float() / q)
    assert dropout(x, 0.3, training=False) is x and dropout(x, 0.0) is x
    layer = Dropout(0.3).eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="dropout probability"):
        dropout(x, 1.0)
    assert torch.isfinite(dropout(x, 1 - 1e-7)).all()  # keeps 1 in 2¹⁶, scaled by 2¹⁶


def test_part_written_out_attention_equals_sdpa():
    """In training on CPU, ParT's particle blocks write the attention out (for the cheap
    dropout mask); with dropout probabilities below 2⁻¹⁷ (no element dropped) the output
    equals the SDPA path's without dropout."""
    batch = inputs_of(build("part"), make_batch(n_real=(12, 5, 9, 1), dtype=torch.float64))
    tiny, none = build("part").double().train(), build("part").double().train()
    for block in tiny.blocks:
        block.attn_dropout = block.dropout.p = block.act_dropout.p = 1e-6
    for block in none.blocks:
        block.attn_dropout = block.dropout.p = block.act_dropout.p = 0.0
    torch.testing.assert_close(tiny(batch), none(batch), rtol=1e-10, atol=1e-10)
