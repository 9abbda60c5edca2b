"""Tagger architectures behind one registry.

Every model is created by name with the hyper-parameters of its paper (``preset="default"``)
or a CPU-sized variant (``preset="small"``)::

    from heplearn import models
    net = models.create("particlenet", n_features=7)            # published sizes
    net = models.create("part", preset="small", n_features=7)   # CPU sized
    logits = net({"features": x, "points": pts, "vectors": p4, "mask": mask})  # (B, 2)

Torch models are pure architectures (``nn.Module``): ``forward(batch)`` takes a dict of
tensors and returns logits ``(B, n_classes)``; binary tasks use 2 logits and cross-entropy.
Batch keys (see each class's ``inputs``; ``mask`` is always accepted):

* ``features`` ``(B, P, F)`` float: per-particle features, zero-padded;
* ``mask`` ``(B, P)`` bool: True for real particles (padding may sit anywhere);
* ``points`` ``(B, P, 2)``: (Δη, Δφ) to the jet axis;
* ``vectors`` ``(B, P, 4)``: four-momenta ``(E, px, py, pz)`` in GeV — pass them unscaled
  (a per-component standardisation would destroy the Lorentz structure that ``part``,
  ``efn``, ``lorentznet`` and ``lgatr`` compute with);
* ``image`` ``(B, 1, H, W)``: jet or event image, φ along W;
* ``jet_features`` ``(B, K)``: jet observables (tabular models).

Tabular models (``kind == "tabular"``: ``bdt``, ``logreg``) are scikit-learn-style
estimators on ``jet_features``. Non-ML baselines live in :mod:`heplearn.models.classic`.
"""

from __future__ import annotations

from heplearn.models.registry import (
    ModelInfo,
    available_models,
    create,
    model_info,
    register_model,
)

__all__ = ["ModelInfo", "available_models", "create", "model_info", "register_model"]

_PN_SMALL = {"k": 7, "conv_channels": ((16, 16, 16), (32, 32, 32)), "fc": (64,)}

register_model(
    "dnn",
    "heplearn.models.dense:DNN",
    kind="torch",
    paper="TopoDNN: Pearkes et al., arXiv:1704.02124; Kasieczka et al., arXiv:1902.09914",
    inputs=("features",),
    presets={"default": {}, "small": {"n_particles": 30, "hidden": (128, 64, 16)}},
)
register_model(
    "cnn",
    "heplearn.models.cnn:CNN",
    kind="torch",
    paper="DeepTop: Kasieczka, Plehn, Russell, Schell, arXiv:1701.08784",
    inputs=("image",),
    presets={"default": {}, "small": {"channels": (8, 8), "convs_per_block": 1, "dense": (64,)}},
)
register_model(
    "pfn",
    "heplearn.models.deepsets:PFN",
    kind="torch",
    paper="Particle Flow Network: Komiske, Metodiev, Thaler, arXiv:1810.05165",
    inputs=("features",),
    presets={"default": {}, "small": {"phi_sizes": (64, 64, 64), "f_sizes": (64, 64)}},
)
register_model(
    "efn",
    "heplearn.models.deepsets:EFN",
    kind="torch",
    paper="Energy Flow Network: Komiske, Metodiev, Thaler, arXiv:1810.05165",
    inputs=("points", "vectors"),
    presets={"default": {}, "small": {"phi_sizes": (64, 64, 64), "f_sizes": (64, 64)}},
)
register_model(
    "particlenet",
    "heplearn.models.particlenet:ParticleNet",
    kind="torch",
    paper="ParticleNet: Qu & Gouskos, arXiv:1902.08570",
    inputs=("points", "features"),
    presets={"default": {}, "small": _PN_SMALL},
)
register_model(
    "particlenet-lite",
    "heplearn.models.particlenet:ParticleNet",
    kind="torch",
    paper="ParticleNet-Lite: Qu & Gouskos, arXiv:1902.08570",
    inputs=("points", "features"),
    presets={
        "default": {"k": 7, "conv_channels": ((32, 32, 32), (64, 64, 64)), "fc": (128,)},
        "small": _PN_SMALL,
    },
)
register_model(
    "part",
    "heplearn.models.part:ParticleTransformer",
    kind="torch",
    paper="Particle Transformer: Qu, Li, Qian, arXiv:2202.03772",
    inputs=("features", "vectors"),
    presets={
        "default": {},
        "small": {
            "embed_dims": (64, 256, 64),
            "pair_embed_dims": (32, 32, 32),
            "num_heads": 4,
            "num_layers": 3,
            "num_cls_layers": 1,
        },
    },
)
register_model(
    "lorentznet",
    "heplearn.models.lorentznet:LorentzNet",
    kind="torch",
    paper="LorentzNet: Gong et al., arXiv:2201.08187",
    inputs=("vectors",),
    presets={"default": {}, "small": {"hidden": 32, "n_layers": 3}},
)
register_model(
    "lstm",
    "heplearn.models.lstm:LSTMTagger",
    kind="torch",
    paper="LSTM taggers: Guest et al., arXiv:1607.08633; Egan et al., arXiv:1711.09059",
    inputs=("features",),
    presets={"default": {}, "small": {"hidden": 32, "dense": (32,)}},
)
register_model(
    "lgatr",
    "heplearn.models.geometric:LGATrTagger",
    kind="torch",
    paper="L-GATr: Spinner et al., arXiv:2405.14806",
    inputs=("vectors",),
    presets={
        "default": {},
        "small": {
            "num_blocks": 2,
            "hidden_mv_channels": 8,
            "hidden_s_channels": 16,
            "num_heads": 4,
        },
    },
    extra="lgatr",
)
register_model(
    "bdt",
    "heplearn.models.tabular:BoostedTrees",
    kind="tabular",
    paper="XGBoost: Chen & Guestrin, arXiv:1603.02754",
    inputs=("jet_features",),
    presets={"default": {}, "small": {"n_estimators": 200, "max_depth": 3}},
)
register_model(
    "logreg",
    "heplearn.models.tabular:LogisticRegressionTagger",
    kind="tabular",
    paper="logistic regression on standardised jet observables (scikit-learn)",
    inputs=("jet_features",),
    presets={"default": {}, "small": {}},
)
