"""Checks that run the network in bfloat16 in the test process itself (PyTorch autocast, OpenVINO's bf16).

On CPUs with AMX they use its tile registers, and in this project's CI machine a test process that had
done so crashed (SIGSEGV, no Python traceback) when it later started a subprocess (issue noted in
docs/benchmarks.md, "The network in bf16"). Tengen's engines start no subprocesses, but the test suite
does; so these checks run in a process of their own: tests/test_openvino_backend.py runs this file
with pytest and asserts that every check passed. Run it directly the same way:

    python -m pytest -q tests/bf16_checks.py
"""

import numpy as np
import pytest
import torch

from go_engine.game import Game
from gtp.engine import GtpEngine
from policy.modelfile import load_model
from policy.train import Trainer, bf16_autocast
from selfplay.evaluators import NetworkEvaluator
from tests.test_evaluators import _leaves
from tests.test_inference import random_bn_model
from tests.test_openvino_backend import small
from tests.test_train import _cfg

BF16_TOL = 0.05  # bfloat16 keeps 8 bits of mantissa: outputs near float32's, not equal to them


@pytest.fixture
def threads():
    """Restores torch's thread count after a test that sets it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_bf16_runs_the_network_in_bfloat16_near_its_float32_outputs(backend, threads):
    if backend == "openvino":
        pytest.importorskip("openvino")
    threads(1)
    model = random_bn_model(small(2), seed=21)
    games = [Game(19), Game(19)]
    games[1].play("Q16")
    leaves = _leaves(games)
    f32 = NetworkEvaluator(model, backend=backend)
    bf16 = NetworkEvaluator(model, backend=backend, precision="bf16")
    assert (bf16.backend, bf16.precision) == (backend, "bf16")
    if backend == "openvino":
        assert (f32._openvino.hint, bf16._openvino.hint) == ("f32", "bf16")
    a, b = f32(leaves), bf16(leaves)
    if backend == "torch":  # autocast runs the convolutions in bfloat16 on any CPU: near, not equal
        assert not np.array_equal(a.priors, b.priors)
    for field in ("priors", "values", "scores", "ownership"):
        got, want = getattr(b, field), getattr(a, field)
        assert got.dtype == want.dtype and got.shape == want.shape, field
        np.testing.assert_allclose(got, want, rtol=0.05, atol=BF16_TOL, err_msg=field)
    np.testing.assert_allclose(b.priors.sum(axis=1), 1.0, atol=1e-5)


def test_auto_precision_is_bf16_on_openvino_where_the_cpu_has_it_else_float32(threads, monkeypatch):
    model = random_bn_model(small(2), seed=24)
    assert NetworkEvaluator(model, backend="torch", precision="auto").precision == "float32"
    pytest.importorskip("openvino")
    import openvino as ov

    from policy.openvino_backend import shared_core

    native = "BF16" in shared_core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    ev = NetworkEvaluator(model, backend="openvino", precision="auto")
    assert (ev.precision, ev._openvino.hint) == (("bf16", "bf16") if native else ("float32", "f32"))
    monkeypatch.setattr(ov.Core, "get_property", lambda self, device, name: ["FP32", "INT8"])
    assert NetworkEvaluator(model, backend="openvino", precision="auto").precision == "float32"
    monkeypatch.setattr(ov.Core, "get_property", lambda self, device, name: ["BF16", "FP32"])
    ev = NetworkEvaluator(model, backend="openvino", precision="auto")
    assert ev.precision == "bf16"
    ev._fall_back(RuntimeError("test"))  # on PyTorch, auto is float32 again
    assert (ev.backend, ev.precision) == ("torch", "float32")


def test_gtp_engine_takes_the_precision(threads):
    threads(1)
    model = random_bn_model(small(2), seed=23)
    engine = GtpEngine(model, visits=8, size=9, seed=0, precision="bf16")
    assert engine.evaluator.precision == "bf16"
    answer, ok, _ = engine.handle("genmove b")
    assert ok and answer.startswith("= ")


def test_bf16_on_the_cpu_trains_in_bf16_and_saves_float32_weights(tmp_path):
    assert not bf16_autocast("auto", torch.device("cpu"))
    assert bf16_autocast("auto", torch.device("cuda"))
    assert bf16_autocast("bf16", torch.device("cpu"))
    assert not bf16_autocast("float32", torch.device("cuda"))
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        bf16_autocast("fp8", torch.device("cpu"))
    seen = []
    t = Trainer(_cfg(tmp_path, steps=4, precision="bf16"))
    t.model.conv_in.register_forward_hook(lambda mod, inp, out: seen.append(out.dtype))
    t.run()
    assert seen == [torch.bfloat16] * 4
    model, _ = load_model(tmp_path / "run" / "model.pt")
    assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in model.parameters())
