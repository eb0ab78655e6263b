"""The archives of Tengen's own games in ``games/``: each is a ``tengen match`` folder (``game-NNNN.sgf`` and
``.json`` pairs, ``match.json``) packed with tar and gzip, read by ``tengen data build`` as training input and
unpacked for ``bench/match_calibration.py``. Every record must replay legally and say what its json says."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from go_engine.sgf import SgfError, read_sgf_inputs

ARCHIVES = sorted((Path(__file__).resolve().parent.parent / "games").glob("*.tar.gz"))


def _jsons(archive: Path) -> dict[str, dict]:
    """The game records' json files in ``archive`` by the name of their SGF file."""
    out = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = member.name
            if member.isfile() and name.endswith(".json") and Path(name).name.startswith("game-"):
                f = tar.extractfile(member)
                assert f is not None
                out[name[: -len(".json")] + ".sgf"] = json.load(f)
    return out


def test_there_are_archives():
    assert ARCHIVES, "games/ holds no archive"


@pytest.mark.parametrize("archive", ARCHIVES, ids=lambda p: p.name)
def test_archive_games_replay_and_match_their_records(archive: Path):
    records = _jsons(archive)
    seen = set()
    for source, game in read_sgf_inputs([str(archive)]):
        assert not isinstance(game, SgfError), f"{source}: {game}"
        name = source.rsplit(":", 1)[-1]  # "ARCHIVE:MEMBER"
        rec = records.get(name)
        assert rec is not None, f"{source}: no json record beside it"
        seen.add((Path(name).parent.name, rec["index"]))
        replayed = game.replay()
        assert len(replayed.moves) == rec["moves"], source
        assert game.result is not None and game.result.sgf() == rec["result"], source
        colour = {rec["black"]: "B", rec["white"]: "W"}.get(rec["winner"])
        assert game.result.winner == colour, source
    assert len(seen) == len(records) > 0
