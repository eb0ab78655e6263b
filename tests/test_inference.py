"""The play-tuned network (policy.inference) against the plain eval model."""

import pytest
import torch

from go_engine.features import NUM_PLANES, P_ON_BOARD
from policy.inference import CompiledGoNet, FusedGoNet, _onednn_works, prepare_for_inference
from policy.model import GoNet, NetConfig
from policy.modelfile import ModelInfo, load_model, save_model

SMALL = NetConfig(blocks=4, channels=32, gpool_channels=8, gpool_every=2, head_channels=16, value_hidden=24)
RTOL, ATOL = 1e-4, 1e-5
KEYS = ("policy", "value", "score", "ownership")


def random_bn_model(cfg: NetConfig, seed: int = 0) -> GoNet:
    """A network whose batch norms are far from the identity (negative scales included)."""
    torch.manual_seed(seed)
    model = GoNet(cfg)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.5)
                m.running_var.copy_(torch.rand(n, generator=g) * 2.5 + 0.3)
                m.weight.copy_((torch.rand(n, generator=g) * 3.0 - 1.5))
                m.bias.copy_(torch.randn(n, generator=g) * 0.3)
    return model.eval()


def random_inputs(batch: int, size: int, seed: int = 0, board_sizes=None):
    """Sparse binary planes; ``board_sizes`` (one per position) puts smaller boards in the corner."""
    g = torch.Generator().manual_seed(seed)
    planes = (torch.rand(batch, NUM_PLANES, size, size, generator=g) < 0.2).float()
    planes[:, P_ON_BOARD] = 1.0
    for i, s in enumerate(board_sizes or []):
        planes[i, :, s:, :] = 0.0
        planes[i, :, :, s:] = 0.0
        planes[i, P_ON_BOARD, :s, :s] = 1.0
    return planes, torch.rand(batch, 6, generator=g)


def assert_same(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for k in KEYS:
        assert got[k].shape == want[k].shape, k
        torch.testing.assert_close(got[k], want[k], rtol=RTOL, atol=ATOL, msg=lambda m, k=k: f"{k}: {m}")


BACKENDS = [False] + ([True] if _onednn_works() else [])


@pytest.mark.parametrize("onednn", BACKENDS, ids=lambda b: "onednn" if b else "generic")
@pytest.mark.parametrize("size", [9, 13, 19])
def test_matches_eval_model(size, onednn):
    model = random_bn_model(SMALL)
    fused = prepare_for_inference(model, "cpu", onednn=onednn)
    assert isinstance(fused, FusedGoNet) and fused.ops.onednn == onednn
    for batch in (1, 3, 8, 3):  # 3 twice: the packed weights are reused
        planes, globs = random_inputs(batch, size, seed=batch + size)
        with torch.no_grad():
            want = model(planes, globs)
        assert_same(fused(planes, globs), want)
        # an NCHW or channels_last input alike
        assert_same(fused(planes.contiguous(memory_format=torch.channels_last), globs), want)


@pytest.mark.parametrize("onednn", BACKENDS, ids=lambda b: "onednn" if b else "generic")
def test_boards_smaller_than_the_tensor(onednn):
    """Mixed board sizes in one batch: the masked path."""
    model = random_bn_model(SMALL, seed=3)
    fused = prepare_for_inference(model, onednn=onednn)
    planes, globs = random_inputs(4, 19, seed=5, board_sizes=[9, 13, 19, 7])
    with torch.no_grad():
        want = model(planes, globs)
    got = fused(planes, globs)
    assert_same(got, want)
    assert (got["policy"][0, :361].view(19, 19)[9:, :] < -5e3).all()  # off-board points stay masked


def test_default_network_and_model_untouched():
    model = random_bn_model(NetConfig(), seed=7)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fused = prepare_for_inference(model)
    assert model.training  # left as it was
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    planes, globs = random_inputs(2, 19, seed=1)
    model.eval()
    with torch.no_grad():
        want = model(planes, globs)
    got = fused(planes, globs)
    assert_same(got, want)
    assert not any(t.requires_grad for t in got.values())
    # no BatchNorm survives: all folded or turned into scale-and-shift
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())


def test_packed_weight_cache_is_bounded_and_cleared_on_move():
    if not _onednn_works():
        pytest.skip("no oneDNN here")
    model = random_bn_model(SMALL, seed=2)
    fused = prepare_for_inference(model)
    for batch in range(1, FusedGoNet.MAX_PACKED + 3):
        fused(*random_inputs(batch, 9, seed=batch))
    assert len(fused._packed) == FusedGoNet.MAX_PACKED
    fused.to("cpu")
    assert len(fused._packed) == 0


def test_from_model_file(tmp_path):
    model = random_bn_model(SMALL, seed=4)
    save_model(tmp_path / "m.pt", model, ModelInfo(SMALL, board_sizes=[9, 19]))
    loaded, _ = load_model(tmp_path / "m.pt")
    planes, globs = random_inputs(3, 9, seed=2)
    with torch.no_grad():
        want = model(planes, globs)
    assert_same(prepare_for_inference(loaded)(planes, globs), want)


def test_compiled_falls_back_to_eager(monkeypatch):
    """Where torch.compile cannot build (no compiler, say), the eager module answers."""
    model = random_bn_model(SMALL, seed=8)
    planes, globs = random_inputs(2, 9, seed=4)
    with torch.no_grad():
        want = model(planes, globs)

    def fails_at_first_call(module, **kwargs):
        def run(*a, **k):
            raise RuntimeError("no C++ compiler")
        return run
    monkeypatch.setattr(torch, "compile", fails_at_first_call)
    net = prepare_for_inference(model, compile=True)
    assert isinstance(net, CompiledGoNet)
    assert_same(net(planes, globs), want)
    assert net.compiled is None and "no C++ compiler" in net.failure

    def fails_at_once(module, **kwargs):
        raise RuntimeError("no inductor")
    monkeypatch.setattr(torch, "compile", fails_at_once)
    net = prepare_for_inference(model, compile=True)
    assert net.compiled is None and "no inductor" in net.failure
    assert_same(net(planes, globs), want)
