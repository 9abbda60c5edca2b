"""Deep Sets taggers: Particle Flow Networks and Energy Flow Networks."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from heplearn.models.layers import ensure_mask, masked_sum, mlp, pt_fractions

__all__ = ["PFN", "EFN"]


class PFN(nn.Module):
    """Particle Flow Network: ``F(sum_i Phi(x_i))``.

    ``Phi`` (per-particle MLP, sizes ``phi_sizes``) maps each particle's features to a latent
    vector; the latent vectors of the real particles are summed (padding excluded by the
    mask) and ``F`` (MLP, ``f_sizes``) maps the sum to ``n_classes`` logits. The output does
    not depend on the order of the particles nor on the amount of padding.

    Inputs: ``features`` ``(B, P, F)``, ``mask`` ``(B, P)``. Output: logits ``(B, n_classes)``.

    Defaults follow Komiske, Metodiev, Thaler, arXiv:1810.05165: Φ sizes (100, 100, 256),
    F sizes (100, 100, 100), ReLU, no dropout (82k parameters with 4 inputs per particle).

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
    ):
        super().__init__()
        self.phi = mlp(n_features, phi_sizes)
        self.f = mlp(phi_sizes[-1], f_sizes, dropout=dropout)
        self.head = nn.Linear(f_sizes[-1], n_classes)

    def latent(self, batch: dict[str, Tensor]) -> Tensor:
        """The pooled latent vector ``sum_i Phi(x_i)``: ``(B, phi_sizes[-1])``."""
        mask = ensure_mask(batch, "features")
        return masked_sum(self.phi(batch["features"]), mask)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        return self.head(self.f(self.latent(batch)))


class EFN(nn.Module):
    """Energy Flow Network: ``F(sum_i z_i Phi(η_i, φ_i))`` — infrared and collinear safe.

    ``z_i = p_T,i / sum_j p_T,j`` is computed inside the model from ``vectors``
    ``(E, px, py, pz)``; ``Phi`` sees only the angular coordinates ``points`` = (Δη, Δφ) to
    the jet axis. Because the latent sum is linear in the energy fractions and ``Phi``
    depends on angles only, a soft particle (z → 0) or a collinear split (same angles, z
    shared) leaves the output unchanged.

    Inputs: ``points`` ``(B, P, 2)``, ``vectors`` ``(B, P, 4)``, ``mask`` ``(B, P)``.
    Output: logits ``(B, n_classes)``.

    Defaults follow arXiv:1810.05165: Φ sizes (100, 100, 256), F sizes (100, 100, 100).

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
    ):
        super().__init__()
        self.phi = mlp(n_angles, phi_sizes)
        self.f = mlp(phi_sizes[-1], f_sizes, dropout=dropout)
        self.head = nn.Linear(f_sizes[-1], n_classes)

    def latent(self, batch: dict[str, Tensor]) -> Tensor:
        """The energy-weighted latent sum ``sum_i z_i Phi(η_i, φ_i)``: ``(B, phi_sizes[-1])``."""
        mask = ensure_mask(batch, "points")
        z = pt_fractions(batch["vectors"], mask).to(batch["points"].dtype)
        return (z.unsqueeze(-1) * self.phi(batch["points"])).sum(dim=1)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        return self.head(self.f(self.latent(batch)))
