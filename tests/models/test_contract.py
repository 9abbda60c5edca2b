"""One contract for every registered torch model (zuko's tests/test_flows.py style):
shapes, gradients, determinism, save/load, training signal, padding, ONNX."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from heplearn import models

from .helpers import TORCH_MODELS, add_padding, build, inputs_of, make_batch

# L-GATr's input layer maps the grade-0 (scalar) part of the input multivectors to scalars;
# four-momenta and the beam spurions have no grade-0 part, and the first attention block
# sees none either, so these weights always multiply 0.
STRUCTURALLY_ZERO_GRAD = {
    ("lgatr", "net.linear_in.mvs2s.weight"),
    ("lgatr", "net.blocks.0.attention.qkv_module.in_linear.mvs2s.weight"),
}


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_registry_entry_matches_class(name):
    info = models.model_info(name)
    assert info.kind == "torch"
    assert {"default", "small"} <= set(info.presets)
    assert "arXiv:" in info.paper
    cls = info.constructor()
    assert cls.inputs == info.inputs
    assert "arXiv:" in cls.__doc__ and "References" in cls.__doc__


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_output_shape_and_gradients(name):
    model = build(name).train()
    batch = make_batch()
    out = model(inputs_of(model, batch))
    assert out.shape == (4, 2) and out.dtype == torch.float32
    assert torch.isfinite(out).all()
    torch.nn.functional.cross_entropy(out, torch.tensor([0, 1, 0, 1])).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, f"{name}: no gradient reaches {pname}"
        assert torch.isfinite(p.grad).all(), f"{name}: non-finite gradient in {pname}"
        if (name, pname) in STRUCTURALLY_ZERO_GRAD:
            continue
        assert p.grad.abs().sum() > 0, f"{name}: zero gradient in {pname}"


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_eval_is_deterministic(name):
    model = build(name).eval()
    batch = inputs_of(model, make_batch())
    with torch.no_grad():
        torch.testing.assert_close(model(batch), model(batch), rtol=0, atol=0)


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_state_dict_round_trip(name):
    model = build(name, seed=1).eval()
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    buf.seek(0)
    other = build(name, seed=2).eval()
    other.load_state_dict(torch.load(buf, weights_only=True))
    batch = inputs_of(model, make_batch())
    with torch.no_grad():
        torch.testing.assert_close(other(batch), model(batch), rtol=0, atol=0)


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_loss_decreases(name):
    model = build(name).train()
    batch = inputs_of(model, make_batch(n_real=(12, 5, 9, 3, 14, 7, 10, 2), seed=3))
    labels = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(batch), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-3:]) < 0.85 * np.mean(losses[:3]), losses


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_trains_on_a_batch_of_one_jet(name):
    """The last batch of an epoch may hold a single jet (n_train = k * batch_size + 1)."""
    model = build(name).train()
    batch = inputs_of(model, make_batch(n_real=(9,), seed=4))
    loss = torch.nn.functional.cross_entropy(model(batch), torch.tensor([1]))
    loss.backward()
    assert torch.isfinite(loss)


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_trains_under_bf16_autocast(name):
    """The mixed-precision path the engine takes on GPUs (``bf16-mixed``), run with CPU
    autocast: finite loss and gradients, float32 weights."""
    model = build(name).train()
    batch = inputs_of(model, make_batch(n_real=(12, 5, 9, 3), seed=3))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(batch)
    loss = torch.nn.functional.cross_entropy(logits.float(), torch.tensor([0, 1, 1, 0]))
    loss.backward()
    assert torch.isfinite(loss)
    for p in model.parameters():
        assert p.dtype == torch.float32
        assert p.grad is None or torch.isfinite(p.grad).all()


@pytest.mark.parametrize("name", TORCH_MODELS)
@pytest.mark.parametrize("training", [True, False])
def test_a_jet_without_particles_gives_finite_logits(name, training):
    """Empty jets (e.g. after a constituent cut) must not turn a batch's loss into NaN."""
    model = build(name).train(training)
    logits = model(inputs_of(model, make_batch(n_real=(12, 0, 9, 1), seed=2)))
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", ["pfn", "efn"])
def test_one_jet_leaves_the_latent_statistics_alone(name):
    model = build(name).train()
    before = model.latent_norm.running_mean.clone()
    model(inputs_of(model, make_batch(n_real=(9,), seed=4)))
    torch.testing.assert_close(model.latent_norm.running_mean, before, rtol=0, atol=0)
    model(inputs_of(model, make_batch(n_real=(9, 4), seed=4)))  # two jets do update them
    assert not torch.equal(model.latent_norm.running_mean, before)


@pytest.mark.parametrize("name", [n for n in TORCH_MODELS if n != "cnn"])
def test_padding_does_not_change_output(name):
    model = build(name).eval().double()
    batch = make_batch(dtype=torch.float64)
    with torch.no_grad():
        ref = model(inputs_of(model, batch))
        padded = model(inputs_of(model, add_padding(batch, 23)))
    torch.testing.assert_close(padded, ref, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_scores_do_not_depend_on_the_inference_batch_size(name):
    # predict() trims each batch to its longest jet: a jet of one particle scored alone, or
    # beside jets of 12, must get the same probability
    from heplearn.training.engine import predict

    model = build(name).double()
    arrays = {k: v.numpy() for k, v in inputs_of(model, make_batch(dtype=torch.float64)).items()}
    whole = predict(model, arrays, batch_size=4)
    for batch_size in (1, 3):
        np.testing.assert_allclose(predict(model, arrays, batch_size=batch_size), whole, rtol=1e-6)


@pytest.mark.parametrize("batch_size", [0, -4, 2.5])
def test_a_bad_inference_batch_size_is_refused(batch_size):
    from heplearn.errors import HeplearnError
    from heplearn.training.engine import predict

    model = build("pfn")
    arrays = {k: v.numpy() for k, v in inputs_of(model, make_batch()).items()}
    with pytest.raises(HeplearnError, match="batch_size"):
        predict(model, arrays, batch_size=batch_size)


@pytest.mark.parametrize("name", TORCH_MODELS)
# torch.onnx.export (TorchScript exporter) warns about its own deprecation and about
# trace-time constants; neither concerns the model, so only those warnings are ignored here.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
@pytest.mark.filterwarnings("ignore:.*onnx.*:UserWarning")
def test_onnx_export_matches_torch(name, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    if name == "lgatr":
        pytest.skip(
            "lgatr's sparse geometric product is a custom autograd.Function that the "
            "TorchScript ONNX exporter cannot trace (RuntimeError: unordered_map::at)"
        )
    model = build(name).eval()
    batch = make_batch()
    keys = sorted(set(model.inputs) | {"mask"})

    class Positional(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, *tensors):
            return self.net(dict(zip(keys, tensors, strict=True)))

    with torch.no_grad():
        want = model(batch).numpy()
    args = tuple(batch[k] for k in keys)
    path = tmp_path / f"{name}.onnx"
    torch.onnx.export(
        Positional(model).eval(),
        args,
        str(path),
        input_names=keys,
        output_names=["logits"],
        dynamo=False,  # the dynamo exporter needs onnxscript, not a dependency
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    # inputs a model ignores (e.g. the CNN's mask) are pruned from the graph
    feed = {i.name: batch[i.name].numpy() for i in session.get_inputs()}
    got = session.run(None, feed)[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
