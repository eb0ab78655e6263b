"""The OpenVINO backend (policy/openvino_backend.py), the evaluator's choice of backend and its bf16 precision
(selfplay/evaluators.py)."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from go_engine.features import P_ON_BOARD, planes_for
from go_engine.game import Game
from gtp.engine import GtpEngine
from policy.model import NetConfig
from policy.openvino_backend import CHUNKS, chunks
from selfplay.evaluators import NetworkEvaluator, choose_backend
from tests.test_evaluators import _leaves
from tests.test_inference import KEYS, random_bn_model

TOL = 1e-3  # the bar for adopting a backend: outputs equal within it


def small(version: int) -> NetConfig:
    return NetConfig(blocks=3, channels=16, gpool_channels=8, gpool_every=2, head_channels=8, value_hidden=16,
                     in_planes=planes_for(version))


@pytest.fixture
def threads():
    """Restores torch's thread count after a test that sets it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


@pytest.fixture
def no_openvino(monkeypatch):
    """OpenVINO as if not installed: its import fails."""
    monkeypatch.setitem(sys.modules, "openvino", None)


def _inputs(batch: int, size: int, in_planes: int, seed: int, board: int | None = None):
    """Sparse binary planes (uint8, as the feature kernels give them) and globals; ``board`` < ``size``
    puts a smaller board in the corner of every position."""
    rng = np.random.default_rng(seed)
    planes = (rng.random((batch, in_planes, size, size)) < 0.2).astype(np.uint8)
    planes[:, P_ON_BOARD] = 1
    if board is not None:
        planes[:, :, board:, :] = 0
        planes[:, :, :, board:] = 0
        planes[:, P_ON_BOARD, :board, :board] = 1
    return planes, rng.random((batch, 6), dtype=np.float32)


def test_chunks_are_compiled_sizes_that_add_up():
    for n in range(0, 300):
        c = chunks(n)
        assert sum(c) == n and set(c) <= set(CHUNKS) and c == sorted(c, reverse=True)
        assert len(c) <= n // CHUNKS[0] + len(CHUNKS) - 1
    assert chunks(8) == [8] and chunks(13) == [8, 4, 1] and chunks(130) == [64, 64, 2]


@pytest.mark.parametrize("version", [1, 2])
def test_outputs_match_the_torch_model(version):
    pytest.importorskip("openvino")
    from policy.openvino_backend import OpenVinoNet

    model = random_bn_model(small(version), seed=version)
    net = OpenVinoNet(model, threads=1)
    for size in (9, 19):
        for batch in (1, 5, 8, 20):
            planes, globs = _inputs(batch, size, model.cfg.in_planes, seed=batch + size)
            got = net(planes, globs)
            with torch.no_grad():
                want = model(torch.from_numpy(planes).float(), torch.from_numpy(globs))
            for k in KEYS:
                assert got[k].shape == tuple(want[k].shape) and got[k].dtype == np.float32, (size, batch, k)
                np.testing.assert_allclose(got[k], want[k].numpy(), rtol=0, atol=TOL, err_msg=f"{size} {batch} {k}")
    # a 9x9 board in 13x13 tensors: the on-board mask is honoured, as by the torch model
    planes, globs = _inputs(3, 13, model.cfg.in_planes, seed=7, board=9)
    got = net(planes, globs)
    with torch.no_grad():
        want = model(torch.from_numpy(planes).float(), torch.from_numpy(globs))
    for k in KEYS:
        np.testing.assert_allclose(got[k], want[k].numpy(), rtol=0, atol=TOL, err_msg=k)
    assert {b for b, _, _ in net._compiled} == {1, 2, 4, 8, 16}  # 5 = 4 + 1, 20 = 16 + 4, 3 = 2 + 1


@pytest.mark.parametrize("version", [1, 2])
def test_evaluator_on_openvino_gives_what_it_gives_on_torch(version, threads):
    pytest.importorskip("openvino")
    model = random_bn_model(small(version), seed=10 + version)
    games = [Game(9), Game(9), Game(9)]
    games[1].play("E5")
    games[2].play("C3")
    games[2].play("G7")
    leaves = _leaves(games)
    on_torch = NetworkEvaluator(model, backend="torch")
    on_ov = NetworkEvaluator(model, backend="openvino", cache_size=16)
    assert (on_torch.backend, on_ov.backend, on_ov.num_planes) == ("torch", "openvino", planes_for(version))
    a, b = on_torch(leaves), on_ov(leaves)
    for field in ("priors", "values", "scores", "ownership"):
        np.testing.assert_allclose(getattr(b, field), getattr(a, field), rtol=0, atol=TOL, err_msg=field)
    again = on_ov(leaves)  # from the cache
    assert on_ov.hits == 3 and np.array_equal(again.priors, b.priors)


def test_auto_takes_openvino_on_the_cpu_where_installed(threads, monkeypatch):
    pytest.importorskip("openvino")
    for n in (1, 2, 4):
        threads(n)
        assert choose_backend("auto") == "openvino"
        assert choose_backend("auto", "cuda") == "torch"
        assert choose_backend("torch") == "torch"
        assert choose_backend("openvino") == "openvino"
    monkeypatch.setitem(sys.modules, "openvino", None)
    assert choose_backend("auto") == "torch"


def test_bad_backend_names_and_devices_are_refused():
    with pytest.raises(ValueError, match="backend must be one of auto, torch, openvino, got 'onnx'"):
        choose_backend("onnx")
    with pytest.raises(ValueError, match="runs the network on the CPU, not on device cuda"):
        choose_backend("openvino", "cuda")


def test_without_openvino_the_network_runs_on_torch_with_one_line(no_openvino, capsys):
    model = random_bn_model(small(2), seed=3)
    ev = NetworkEvaluator(model, backend="openvino")
    err = capsys.readouterr().err.splitlines()
    assert ev.backend == "torch" and len(err) == 1
    assert err[0].startswith("tengen: OpenVINO failed (ModuleNotFoundError: import of openvino halted")
    assert err[0].endswith("the network runs on PyTorch")
    leaves = _leaves([Game(9)])
    np.testing.assert_array_equal(ev(leaves).priors, NetworkEvaluator(model)(leaves).priors)
    ev.warm_up(19)  # nothing to compile on torch


def test_a_shape_openvino_cannot_compile_falls_back_to_torch(capsys, monkeypatch):
    pytest.importorskip("openvino")
    from policy.openvino_backend import OpenVinoNet

    def fail(self, batch, height, width):
        raise RuntimeError(f"cannot compile\n{batch}x{height}x{width}")

    model = random_bn_model(small(2), seed=4)
    ev = NetworkEvaluator(model, backend="openvino")
    monkeypatch.setattr(OpenVinoNet, "_request", fail)
    leaves = _leaves([Game(9), Game(9)])
    got = ev(leaves)
    err = capsys.readouterr().err.splitlines()
    assert ev.backend == "torch" and err == [
        "tengen: OpenVINO failed (RuntimeError: cannot compile 2x9x9); the network runs on PyTorch"]
    np.testing.assert_array_equal(got.values, NetworkEvaluator(model)(leaves).values)
    ev(leaves)
    assert capsys.readouterr().err == ""  # said once


def test_gtp_warm_up_and_boardsize_compile_what_genmove_runs(threads):
    pytest.importorskip("openvino")
    threads(1)
    model = random_bn_model(small(2), seed=5)
    engine = GtpEngine(model, visits=40, size=13, seed=0)  # backend auto: OpenVINO
    ov = engine.evaluator._openvino
    assert engine.evaluator.backend == "openvino" and ov.threads == 1
    engine.warm_up()
    assert {(b, h) for b, h, _ in ov._compiled} == {(1, 13), (2, 13), (4, 13), (8, 13)}
    for size in (13, 9):
        assert engine.handle(f"boardsize {size}")[1]
        compiled = list(ov._compiled)
        answer, ok, _ = engine.handle("genmove b")
        assert ok and answer.startswith("= "), answer
        assert list(ov._compiled) != [] and set(ov._compiled) == set(compiled)  # nothing compiled while timed
    assert {(1, 9), (8, 9)} <= {(b, h) for b, h, _ in ov._compiled}


@pytest.mark.parametrize("command", ["gtp", "play", "analysis", "review"])
def test_commands_take_a_backend(command, tmp_path):
    from tengen_cli import build_parser

    sgf = tmp_path / "g.sgf"
    sgf.write_text("(;GM[1]SZ[9];B[ee])")
    head = [command] + ([str(sgf)] if command == "review" else [])
    parser = build_parser()
    assert parser.parse_args(head).backend == "auto"
    assert parser.parse_args(head + ["--backend", "openvino"]).backend == "openvino"
    with pytest.raises(SystemExit):
        parser.parse_args(head + ["--backend", "onnx"])
    assert parser.parse_args(head).precision == "float32"
    assert parser.parse_args(head + ["--precision", "bf16"]).precision == "bf16"
    with pytest.raises(SystemExit):
        parser.parse_args(head + ["--precision", "fp16"])


def test_an_unknown_precision_is_refused():
    model = random_bn_model(small(2), seed=22)
    with pytest.raises(ValueError, match="precision must be one of auto, float32, bf16, got 'fp16'"):
        NetworkEvaluator(model, precision="fp16")
    from tengen_cli import main

    assert main(["gtp", "--precision", "fp16"]) == 2


def test_openvino_sends_no_usage_reports():
    """OpenVINO's converter would report usage from forked processes (which hang beside a reader thread):
    its no-op stub must be what it calls, outside CI too."""
    pytest.importorskip("openvino")
    code = ("import torch; from policy.openvino_backend import OpenVinoNet; from tests.test_openvino_backend import "
            "small; from tests.test_inference import random_bn_model; OpenVinoNet(random_bn_model(small(2), seed=1)); "
            "import openvino.tools.ovc.convert_impl as c, multiprocessing as mp; "
            "print(c.tm.__name__, len(mp.active_children()))")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TF_BUILD", "JENKINS_URL")}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env,
                         cwd=Path(__file__).parent.parent)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["openvino.tools.ovc.telemetry_stub", "0"]


def test_bf16_checks_pass_in_a_process_of_their_own():
    """tests/bf16_checks.py (bf16 through PyTorch autocast and OpenVINO, training in bf16, the engine's
    precision) in a child pytest: AMX use must not share a process with the suite's subprocesses."""
    root = Path(__file__).parent.parent
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/bf16_checks.py"],
                         capture_output=True, text=True, timeout=600, cwd=root)
    tail = run.stdout[-3000:]
    assert run.returncode == 0, tail
    counts = dict((k, int(n)) for n, k in re.findall(r"(\d+) (passed|failed|skipped|errors?)", tail.splitlines()[-1]))
    want = 5 if importlib.util.find_spec("openvino") else 3
    assert counts.get("passed") == want and set(counts) == {"passed"} | ({"skipped"} if want == 3 else set()), tail


def test_networks_freed_in_any_order_leave_signals_safe():
    """Four networks compiled and freed out of order, then DataLoader workers (their SIGCHLD runs torch's
    handler on the thread's alternate signal stack): with a Core per network the CPU plugin left a freed
    stack installed and the process died of SIGSEGV; one shared Core leaves it alive."""
    pytest.importorskip("openvino")
    code = """
import gc, torch
from policy.openvino_backend import OpenVinoNet, shared_core
from tests.test_inference import random_bn_model
from tests.test_openvino_backend import small, _inputs

def compiled(seed):
    model = random_bn_model(small(2), seed=seed)
    net = OpenVinoNet(model, threads=1)
    for n in (1, 8):
        net(*_inputs(n, 9, model.cfg.in_planes, seed))
    return net

nets = [compiled(seed) for seed in range(4)]
assert all(net._core is shared_core() for net in nets)
for i in (0, 2, 1, 3):
    nets[i] = None
    gc.collect()
for _ in range(5):
    for _ in torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.arange(8)), batch_size=4, num_workers=2):
        pass
print("alive")
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).parent.parent)
    assert (run.returncode, run.stdout.split()) == (0, ["alive"]), run.stderr[-2000:]
