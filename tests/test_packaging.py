"""A plain ``pip install`` ships the bundled network and plays with it (.ci/wheel_check.py); an
install without it says so instead of falling back to random playouts."""

import subprocess
import sys
from pathlib import Path

import pytest

from policy import modelfile
from tengen_cli import main

CHECK = Path(__file__).resolve().parents[1] / ".ci" / "wheel_check.py"
NETWORK = f"policy/networks/{modelfile.BUNDLED.name}"  # as the wheel holds it


def _wheel_check(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), *args], capture_output=True, text=True, timeout=timeout)


def test_the_wheel_holds_the_bundled_network():
    r = _wheel_check("--files-only", timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"holds {NETWORK}" in r.stdout


@pytest.mark.slow
def test_tengen_gtp_from_a_fresh_install_plays_with_the_bundled_network():
    r = _wheel_check(timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "tengen gtp from the install" in r.stdout and f"site-packages/{NETWORK}" in r.stdout


@pytest.mark.parametrize("command", ["gtp", "play"])
def test_a_missing_bundled_network_is_one_line_on_stderr(command, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(modelfile, "BUNDLED", tmp_path / "networks" / modelfile.BUNDLED.name)
    monkeypatch.delenv("TENGEN_MODEL", raising=False)
    assert main([command]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"tengen {command}: error: {tmp_path}")
    assert "bundled network is missing" in err and "--model none" in err


def test_a_named_model_or_none_needs_no_bundled_network(tmp_path, monkeypatch):
    monkeypatch.setattr(modelfile, "BUNDLED", tmp_path / "missing.pt")
    monkeypatch.delenv("TENGEN_MODEL", raising=False)
    assert modelfile.resolve_model("none") is None
    assert modelfile.resolve_model("a.pt") == "a.pt"
    monkeypatch.setenv("TENGEN_MODEL", "b.pt")
    assert modelfile.resolve_model(None) == "b.pt"
    monkeypatch.setenv("TENGEN_MODEL", "NONE")
    assert modelfile.resolve_model(None) is None


def test_the_bundled_network_is_package_data():
    assert modelfile.BUNDLED.is_file()
    assert modelfile.BUNDLED.parent == Path(modelfile.__file__).resolve().parent / "networks"
    assert (modelfile.BUNDLED.parent / "README.md").is_file()  # its model card
