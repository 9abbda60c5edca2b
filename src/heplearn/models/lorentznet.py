"""LorentzNet: Lorentz-group-equivariant message passing on four-momenta."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from heplearn.models.layers import ensure_mask, trim_padding

__all__ = ["psi", "minkowski_dot", "MaskedBatchNorm", "LGEB", "LorentzNet"]

BEAM_MODES = ("spurions", "transverse", None)


def psi(x: Tensor) -> Tensor:
    """``ψ(x) = sign(x) log(|x| + 1)`` (arXiv:2201.08187, Eq. 5): tames Minkowski products."""
    return torch.sign(x) * torch.log1p(torch.abs(x))


def minkowski_dot(a: Tensor, b: Tensor) -> Tensor:
    """``<a, b> = a⁰b⁰ − a·b`` over the last axis (metric (+, −, −, −))."""
    return a[..., 0] * b[..., 0] - (a[..., 1:] * b[..., 1:]).sum(dim=-1)


class MaskedBatchNorm(nn.BatchNorm1d):
    """BatchNorm over the last axis whose training statistics use only ``mask``-ed entries.

    ``x`` ``(..., C)``, ``mask`` ``x.shape[:-1]`` bool. Padded nodes and edges thus never
    shift the statistics (the reference code normalises an edge list of real edges only).
    Evaluation uses the running statistics, like ``nn.BatchNorm1d`` (same state-dict keys).
    """

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:  # type: ignore[override]
        if self.training:
            sel = x[mask]
            mean = sel.mean(dim=0)
            var = sel.var(dim=0, unbiased=False)
            with torch.no_grad():
                n = sel.shape[0]
                self.num_batches_tracked.add_(1)
                # momentum None: cumulative average, as nn.BatchNorm1d
                w = self.momentum
                if w is None:
                    w = 1.0 / float(self.num_batches_tracked)
                self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), w)
                unbiased = var.detach() * (n / max(n - 1, 1))
                self.running_var.lerp_(unbiased.to(self.running_var.dtype), w)
        else:
            mean, var = self.running_mean.to(x.dtype), self.running_var.to(x.dtype)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


class LGEB(nn.Module):
    """Lorentz group equivariant block (arXiv:2201.08187, Eqs. 6–8), dense over all pairs.

    ``m_ij = φ_e(h_i, h_j, ψ(|x_i − x_j|²), ψ(<x_i, x_j>))`` gated by ``σ(φ_m(m_ij))``;
    ``x_i ← x_i + c · mean_j (x_i − x_j) φ_x(m_ij)`` (clamped to ±100 as the reference code);
    ``h_i ← h_i + φ_h(h_i, Σ_j m_ij, s_i)``. Sums run over real ``j ≠ i``.

    Shapes: ``h`` ``(B, N, H)``, ``x`` ``(B, N, 4)``, ``s`` ``(B, N, S)``, ``node_mask``
    ``(B, N)``, ``edge_mask`` ``(B, N, N)``.
    """

    def __init__(self, hidden: int, n_scalars: int, c_weight: float, last_layer: bool = False):
        super().__init__()
        self.hidden = hidden
        self.c_weight = c_weight
        # φ_e's first layer Linear(2H + 2, H, bias=False), applied per node then broadcast
        self.phi_e0 = nn.Linear(2 * hidden + 2, hidden, bias=False)
        self.phi_e_bn = MaskedBatchNorm(hidden)
        self.phi_e1 = nn.Linear(hidden, hidden)
        self.phi_m = nn.Linear(hidden, 1)
        self.phi_h0 = nn.Linear(2 * hidden + n_scalars, hidden)
        self.phi_h_bn = MaskedBatchNorm(hidden)
        self.phi_h1 = nn.Linear(hidden, hidden)
        self.last_layer = last_layer
        if not last_layer:
            out = nn.Linear(hidden, 1, bias=False)
            nn.init.xavier_uniform_(out.weight, gain=0.001)
            self.phi_x = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), out)

    def forward(self, h: Tensor, x: Tensor, s: Tensor, node_mask: Tensor, edge_mask: Tensor):
        hd = self.hidden
        w = self.phi_e0.weight
        diff = x.unsqueeze(2) - x.unsqueeze(1)  # (B, N, N, 4): x_i - x_j
        norms = psi(minkowski_dot(diff, diff))
        dots = psi(minkowski_dot(x.unsqueeze(2), x.unsqueeze(1)))
        m = (
            F.linear(h, w[:, :hd]).unsqueeze(2)
            + F.linear(h, w[:, hd : 2 * hd]).unsqueeze(1)
            + norms.unsqueeze(-1) * w[:, 2 * hd]
            + dots.unsqueeze(-1) * w[:, 2 * hd + 1]
        )
        m = torch.relu(self.phi_e1(torch.relu(self.phi_e_bn(m, edge_mask))))
        em = edge_mask.unsqueeze(-1).to(m.dtype)
        m = m * torch.sigmoid(self.phi_m(m)) * em
        if not self.last_layer:
            trans = (diff * self.phi_x(m)).clamp(min=-100.0, max=100.0) * em
            count = em.sum(dim=2).clamp(min=1)
            x = x + self.c_weight * trans.sum(dim=2) / count
        agg = torch.cat([h, m.sum(dim=2), s], dim=-1)
        h = h + self.phi_h1(torch.relu(self.phi_h_bn(self.phi_h0(agg), node_mask)))
        return h * node_mask.unsqueeze(-1).to(h.dtype), x


class LorentzNet(nn.Module):
    """LorentzNet (Gong et al., arXiv:2201.08187).

    Nodes carry four-momenta ``x`` (updated equivariantly) and scalars ``h`` (invariant);
    ``n_layers`` :class:`LGEB` blocks exchange messages built from Minkowski products over
    all pairs of real nodes; ``h`` is averaged over the real nodes and decoded (Linear, ReLU,
    Dropout, Linear) to logits. Node scalars ``s``: ``ψ(m)`` of the particle mass
    ``m = sqrt(|p²|)`` (the reference code passes its node scalars through ψ too), plus what
    ``beams`` adds, plus the columns ``scalar_features`` of ``features`` as given (give only
    Lorentz scalars: charge, PID one-hots).

    ``beams`` — how the beam axis breaks the Lorentz symmetry:

    * ``"spurions"`` (paper, default): two spurion particles ``(sqrt(1 + m_b²), 0, 0, ±1)``,
      ``m_b = beam_mass`` (1 in the reference code), are prepended to every jet and the mass
      scalar is split into particle / beam columns (``[ψ(m)·is_particle, ψ(m)·is_beam]``).
      The remaining symmetry is SO(2): rotations about z. A boost along z changes the
      products with the fixed spurions, so the output is *not* boost invariant.
    * ``"transverse"``: no extra nodes; each particle gets the scalar
      ``ψ(E² − p_z²) = ψ(m_T²)``. Invariant under boosts along z and rotations about z
      (SO(1,1) × SO(2)), not under other Lorentz transformations.
    * ``None``: no symmetry breaking; invariant under every (proper orthochronous) Lorentz
      transformation.

    Inputs: ``vectors`` ``(B, P, 4)`` as ``(E, px, py, pz)`` in GeV (multiplied by
    ``momentum_scale``), ``mask`` ``(B, P)``; ``features`` ``(B, P, F)`` when
    ``scalar_features`` is not empty. Output: logits ``(B, n_classes)``.

    Defaults (paper, top tagging): 6 LGEBs, 72 hidden, c = 5·10⁻³ (the value in the authors'
    released top-tagging configuration; 10⁻³ is their quark/gluon value, in the release's
    ``logs/qg/pretrained/args.json``, which ``heplearn landscape qg`` uses with
    ``beams=None`` and particle-type scalars, as their q/g data loader builds the nodes;
    ψ(m) stays beside them, where their q/g nodes carry the type one-hot alone),
    decoder dropout 0.2 — 224k parameters in the paper.

    Deviation: pooling averages over real nodes (the reference averages over all padded
    slots, so its output changes with the amount of padding).

    References: Gong, Meng, Qin, Zhang, Zhang, Cheng, Cheng, Huang, Liu, Wang,
    "An efficient Lorentz equivariant graph neural network for jet tagging",
    arXiv:2201.08187.
    """

    inputs: tuple[str, ...] = ("vectors",)

    def __init__(
        self,
        hidden: int = 72,
        n_layers: int = 6,
        c_weight: float = 5e-3,
        dropout: float = 0.2,
        beams: str | None = "spurions",
        beam_mass: float = 1.0,
        scalar_features: Sequence[int] = (),
        momentum_scale: float = 1.0,
        n_classes: int = 2,
    ):
        super().__init__()
        if beams not in BEAM_MODES:
            raise ValueError(f"beams must be one of {BEAM_MODES}, got {beams!r}")
        self.beams = beams
        self.beam_mass = float(beam_mass)
        self.scalar_features = tuple(int(i) for i in scalar_features)
        if self.scalar_features:
            self.inputs = ("vectors", "features")
        self.momentum_scale = float(momentum_scale)
        n_scalars = 2 + len(self.scalar_features)  # beam modes add one column to the mass
        if beams is None:
            n_scalars -= 1
        self.embedding = nn.Linear(n_scalars, hidden)
        self.blocks = nn.ModuleList(
            LGEB(hidden, n_scalars, c_weight, last_layer=(i == n_layers - 1))
            for i in range(n_layers)
        )
        self.decoder = nn.Sequential(
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_classes)
        )

    def _nodes(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        mask = ensure_mask(batch, "vectors")
        keys = [batch["vectors"]] + ([batch["features"]] if self.scalar_features else [])
        mask, x, *rest = trim_padding(mask, *keys)
        x = x * self.momentum_scale * mask.unsqueeze(-1).to(x.dtype)
        mass = psi(torch.sqrt(torch.abs(minkowski_dot(x, x))))
        extra = (
            rest[0][..., list(self.scalar_features)].to(x.dtype) * mask.unsqueeze(-1)
            if self.scalar_features
            else x.new_zeros(x.shape[:2] + (0,))
        )
        if self.beams == "spurions":
            b = x.shape[0]
            e_b = (1.0 + self.beam_mass**2) ** 0.5
            beam = x.new_tensor([[e_b, 0.0, 0.0, 1.0], [e_b, 0.0, 0.0, -1.0]])
            x = torch.cat([beam.expand(b, 2, 4), x], dim=1)
            m_beam = psi(torch.sqrt(torch.abs(minkowski_dot(beam, beam)))).expand(b, 2)
            zeros = x.new_zeros(b, 2)
            s = torch.cat(
                [
                    torch.stack(
                        [torch.cat([zeros, mass], 1), torch.cat([m_beam, 0 * mass], 1)], -1
                    ),
                    F.pad(extra, (0, 0, 2, 0)),
                ],
                dim=-1,
            )
            mask = F.pad(mask, (2, 0), value=True)
        elif self.beams == "transverse":
            mt2 = x[..., 0] ** 2 - x[..., 3] ** 2
            s = torch.cat([torch.stack([mass, psi(mt2)], -1), extra], dim=-1)
        else:
            s = torch.cat([mass.unsqueeze(-1), extra], dim=-1)
        return x, s * mask.unsqueeze(-1).to(s.dtype), mask

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        x, s, mask = self._nodes(batch)
        n = mask.shape[1]
        ar = torch.arange(n, device=mask.device)
        not_self = ar.unsqueeze(1) != ar.unsqueeze(0)  # (not eye: ONNX Runtime lacks bool EyeLike)
        edge_mask = mask.unsqueeze(2) & mask.unsqueeze(1) & not_self
        h = self.embedding(s) * mask.unsqueeze(-1).to(s.dtype)
        for block in self.blocks:
            h, x = block(h, x, s, mask, edge_mask)
        counts = mask.sum(dim=1, keepdim=True).clamp(min=1).to(h.dtype)
        return self.decoder(h.sum(dim=1) / counts)
