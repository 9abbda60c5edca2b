"""Deep Sets taggers: Particle Flow Networks and Energy Flow Networks.

Both standardise the pooled latent vector channel by channel (``BatchNorm1d``, Ioffe &
Szegedy, arXiv:1502.03167) before ``F`` by default, which the papers' Keras models do not do
(``latent_norm=False`` gives the published architecture). ``F`` of an EFN sees a
momentum-weighted *average* of ``Φ`` (the ``z_i`` sum to 1), dominated by the hard core and
nearly the same for every jet; without the standardisation ``F`` learns from those small
differences slowly. Measured in ``heplearn landscape top --medium`` (100k ``atlas-like``
training jets, small presets, the 48 hardest constituents, 240k test jets): EFN AUC
0.9626 → 0.9792 (without it the EFN stayed at 0.96 from 1k to 100k training jets), PFN
0.9819 → 0.9860 (published on the reference dataset: EFN 0.9789, PFN 0.9819,
arXiv:1902.09914). In evaluation mode the standardisation is a fixed affine map of the
latent vector (running statistics), so the EFN stays infrared and collinear safe and both
stay permutation invariant. The EFN's latent vector varies so little across jets that
BatchNorm's moving averages lag its weights by standard deviations; the training engine
recomputes the statistics before each validation
(:func:`heplearn.training.module.recalibrate_batch_norm`), without which early stopping
could keep an EFN's first epoch. A per-jet ``LayerNorm`` would not do: it makes a PFN blind to
the overall scale of ``sum_i Phi``, i.e. to duplicating every particle, hence to
multiplicity.

The EFN's ``Phi`` is initialised as in EnergyFlow (``phi_init="energyflow"``, He-uniform
weights and zero biases, :func:`init_like_energyflow`), the PFN's with PyTorch's default
(``phi_init="torch"``). Measured with ``benchmarks/bench_constituent_budget.py --models efn
--presets small --test-data none [--overrides '{"phi_init": "torch"}']`` (the medium
sample's 100k training jets, every constituent; AUC / 1/ε_B at ε_S = 0.3 on its 40k
held-out jets, one thread, seeds 1–3): PyTorch's default 0.9734–0.9741 / 134–137
(2026-11-30, seeds 2 and 3 before precise BatchNorm; seed 1 with it 0.9738 / 137 on
2026-12-01), EnergyFlow's 0.9795–0.9799 / 391–486 (2026-12-01). Two throwaway variants
locate the cause in the scale of the angles against the weights: PyTorch's default with
the angles in units of 0.1 gives 0.9794 / 356 (seed 1), zero biases with PyTorch's
default weights only 0.9754 / 159 and 0.9766 / 259 (seeds 2, 3). The PFN, whose features
put log p_T and log E of order 1 beside the angles, gains nothing (EnergyFlow's
initialisation 0.9866 / 906, PyTorch's 0.9868 / 949, seed 1) and keeps the default under
which its published numbers here were measured. The EFN's numbers in the first paragraph
were measured with PyTorch's default.

The EFN is infrared and collinear safe on the constituents it is given; a cut to a jet's
``P`` hardest is not. The cut drops more of the jet's pT the more constituents the jet
has, and the ``z_i``, renormalised over the kept constituents, then let the EFN see
multiplicity (top jets 62 constituents on average, QCD 48, on the medium sample). With
PyTorch's initialisation the cut to the 48 hardest gained 0.005 in AUC (0.9790–0.9798
against 0.9734–0.9741 with every constituent, up to 128; a cut at a pT fraction,
``z_i >= 0.002``, which keeps as many constituents, 42.6 on average, without depending on
how many soft ones a jet has, 0.9744). With EnergyFlow's it gains 0.001 and costs a third
of the rejection at ε_S = 0.3 (0.9805–0.9809 / 269–307 against 0.9795–0.9799 /
391–486, 3 seeds each, 40k held-out jets); an EFN trained on whole jets still scores
0.0008–0.0009 higher on its test jets' 48 hardest, the leak that remains, and only
0.0001–0.0002 higher on their constituents with z_i >= 0.002, a cut that trains as well as
whole jets do (0.9794–0.9798 / 327–433) (``benchmarks/bench_constituent_budget.py --models
efn``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from torch import Tensor, nn
from torch.nn import functional

from heplearn.models.layers import ensure_mask, masked_sum, mlp, pt_fractions

__all__ = ["PFN", "EFN", "init_like_energyflow"]


PhiInit = Literal["energyflow", "torch"]


def init_like_energyflow(phi: nn.Module) -> None:
    """Initialise the ``Linear`` layers of ``phi`` as EnergyFlow's Keras EFN and PFN do
    (``Phi_k_inits="he_uniform"``, Keras' zero biases): weights ``U(±sqrt(6 / fan_in))``
    (He et al., arXiv:1502.01852), biases 0.

    ``Phi`` then starts positively homogeneous, ``Phi(λx) = λ Phi(x)`` for λ > 0: its ReLUs
    switch on lines through the jet axis, whatever unit the angles are measured in.
    PyTorch's default (weights and biases ``U(±1/sqrt(fan_in))``) instead meets inputs of a
    size set by their unit: an EFN's angles to the jet axis are ~0.1 (radians) and, with
    that default, its ``Phi`` learns a jet's angular structure slowly. The module docstring
    measures both and what matters: the weights' scale against the angles', more than the
    zero biases alone.
    """
    for layer in phi.modules():
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)


class _DeepSet(nn.Module):
    """``head(F(norm(latent)))``: the part PFN and EFN share; subclasses define ``latent``."""

    def __init__(self, phi_in, phi_sizes, f_sizes, dropout, n_classes, latent_norm, phi_init):
        super().__init__()
        if phi_init not in ("energyflow", "torch"):
            raise ValueError(f"phi_init must be 'energyflow' or 'torch', not {phi_init!r}")
        self.phi = mlp(phi_in, phi_sizes)
        if phi_init == "energyflow":
            init_like_energyflow(self.phi)
        self.latent_norm = nn.BatchNorm1d(phi_sizes[-1]) if latent_norm else nn.Identity()
        self.f = mlp(phi_sizes[-1], f_sizes, dropout=dropout)
        self.head = nn.Linear(f_sizes[-1], n_classes)

    def latent(self, batch: dict[str, Tensor]) -> Tensor:
        raise NotImplementedError

    def normalised_latent(self, batch: dict[str, Tensor]) -> Tensor:
        latent = self.latent(batch)
        norm = self.latent_norm
        if isinstance(norm, nn.BatchNorm1d) and self.training and latent.shape[0] == 1:
            # one jet has no batch statistics: use the running ones, update nothing
            return functional.batch_norm(
                latent,
                norm.running_mean,
                norm.running_var,
                norm.weight,
                norm.bias,
                False,
                0.0,
                norm.eps,
            )
        return norm(latent)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        return self.head(self.f(self.normalised_latent(batch)))


class PFN(_DeepSet):
    """Particle Flow Network: ``F(sum_i Phi(x_i))``.

    ``Phi`` (per-particle MLP, sizes ``phi_sizes``) maps each particle's features to a latent
    vector; the latent vectors of the real particles are summed (padding excluded by the
    mask) and ``F`` (MLP, ``f_sizes``) maps the sum to ``n_classes`` logits. The output does
    not depend on the order of the particles nor on the amount of padding.

    Inputs: ``features`` ``(B, P, F)``, ``mask`` ``(B, P)``. Output: logits ``(B, n_classes)``.

    Defaults follow Komiske, Metodiev, Thaler, arXiv:1810.05165: Φ sizes (100, 100, 256),
    F sizes (100, 100, 100), ReLU, no dropout (82k parameters with 4 inputs per particle);
    ``latent_norm`` (default True) normalises the pooled vector, ``phi_init`` (default
    ``"torch"``; ``"energyflow"``: :func:`init_like_energyflow`) initialises ``Phi``, see
    the module docstring.

    References: Komiske, Metodiev, Thaler, "Energy Flow Networks: Deep Sets for Particle
    Jets", arXiv:1810.05165; Zaheer et al., arXiv:1703.06114.
    """

    inputs: tuple[str, ...] = ("features",)

    def __init__(
        self,
        n_features: int,
        phi_sizes: Sequence[int] = (100, 100, 256),
        f_sizes: Sequence[int] = (100, 100, 100),
        dropout: float = 0.0,
        n_classes: int = 2,
        latent_norm: bool = True,
        phi_init: PhiInit = "torch",
    ):
        super().__init__(n_features, phi_sizes, f_sizes, dropout, n_classes, latent_norm, phi_init)

    def latent(self, batch: dict[str, Tensor]) -> Tensor:
        """The pooled latent vector ``sum_i Phi(x_i)``: ``(B, phi_sizes[-1])``."""
        mask = ensure_mask(batch, "features")
        return masked_sum(self.phi(batch["features"]), mask)


class EFN(_DeepSet):
    """Energy Flow Network: ``F(sum_i z_i Phi(η_i, φ_i))`` — infrared and collinear safe.

    ``z_i = p_T,i / sum_j p_T,j`` is computed inside the model from ``vectors``
    ``(E, px, py, pz)``; ``Phi`` sees only the angular coordinates ``points`` = (Δη, Δφ) to
    the jet axis. Because the latent sum is linear in the energy fractions and ``Phi``
    depends on angles only, a soft particle (z → 0) or a collinear split (same angles, z
    shared) leaves the output unchanged.

    Inputs: ``points`` ``(B, P, 2)``, ``vectors`` ``(B, P, 4)``, ``mask`` ``(B, P)``.
    Output: logits ``(B, n_classes)``.

    Defaults follow arXiv:1810.05165: Φ sizes (100, 100, 256), F sizes (100, 100, 100);
    ``latent_norm`` (default True) normalises the latent vector; ``phi_init`` (default
    ``"energyflow"``, :func:`init_like_energyflow`; ``"torch"``: PyTorch's default)
    initialises ``Phi``, see the module docstring.

    References: Komiske, Metodiev, Thaler, arXiv:1810.05165.
    """

    inputs: tuple[str, ...] = ("points", "vectors")

    def __init__(
        self,
        n_angles: int = 2,
        phi_sizes: Sequence[int] = (100, 100, 256),
        f_sizes: Sequence[int] = (100, 100, 100),
        dropout: float = 0.0,
        n_classes: int = 2,
        latent_norm: bool = True,
        phi_init: PhiInit = "energyflow",
    ):
        super().__init__(n_angles, phi_sizes, f_sizes, dropout, n_classes, latent_norm, phi_init)

    def latent(self, batch: dict[str, Tensor]) -> Tensor:
        """The energy-weighted latent sum ``sum_i z_i Phi(η_i, φ_i)``: ``(B, phi_sizes[-1])``."""
        mask = ensure_mask(batch, "points")
        z = pt_fractions(batch["vectors"], mask).to(batch["points"].dtype)
        return (z.unsqueeze(-1) * self.phi(batch["points"])).sum(dim=1)
