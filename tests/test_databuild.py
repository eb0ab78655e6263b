"""``tengen data build``: filters, split, de-duplication, resuming, bad input, and the CLI."""

import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

import policy.databuild as databuild
from go_engine.sgf import ReadStats, SgfError, read_sgf_inputs
from go_engine.shards import read_shard
from policy.databuild import BuildOptions, build, is_validation, rank_value
from policy.loader import PositionLoader

GAME = "(;GM[1]FF[4]SZ[{size}]KM[{komi}]PB[b]PW[w]BR[{br}]WR[{wr}]RE[{re}]{extra};B[{m1}];W[dd];B[pq];W[qd];B[dq]{tail})"


def game(size=19, komi="6.5", br="5d", wr="6d", re="B+R", extra="", m1="pd", tail=""):
    return GAME.format(size=size, komi=komi, br=br, wr=wr, re=re, extra=extra, m1=m1, tail=tail)


def _tar_gz(path: Path, members: dict[str, str]) -> None:
    with tarfile.open(path, "w:gz") as tf:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


@pytest.fixture
def corpus(tmp_path):
    src = tmp_path / "src"
    (src / "deep" / "er").mkdir(parents=True)
    (src / "a.sgf").write_text(game())
    (src / "deep" / "er" / "b.sgf").write_text(game(m1="qq", re="W+3.5"))
    (src / "coll.sgf").write_text(game(m1="cc", br="2k") + "\n" + game(m1="ee", re="?") + "\n"
                                  + "(;GM[1]FF[4]SZ[9]KM[7]RE[B+R];B[ee];W[cc];B[gg])")
    (src / "hand.sgf").write_text(game(extra="HA[2]AB[dc][pp]PL[W]", m1="qp", tail=""))
    (src / "illegal.sgf").write_text(game(m1="dd"))  # W[dd] then plays on an occupied point
    (src / "garbage.sgf").write_bytes(b"\x00\x01\x02 not an sgf \xff\xfe")
    (src / "trunc.sgf").write_text(game(m1="jj")[:40])
    (src / "notes.txt").write_text("not a game record")
    _tar_gz(tmp_path / "games.tar.gz", {"x/1.sgf": game(m1="kk"), "x/2.sgf": game()})  # 2.sgf duplicates a.sgf
    with zipfile.ZipFile(tmp_path / "games.zip", "w") as zf:
        zf.writestr("z/3.sgf", game(m1="ll"))
    return tmp_path


def test_build_counts_filters_and_shards(corpus):
    out = corpus / "out"
    s = build([str(corpus / "src"), str(corpus / "games.tar.gz"), str(corpus / "games.zip")], str(out),
              BuildOptions(val_fraction=0.0), workers=1, progress=False)
    # a, b, cc(2k), ee(?), hand, kk, ll are 19x19 and legal; the tar's 2.sgf repeats a.sgf
    assert s["games_used"] == 7
    assert s["rejected"]["duplicate"] == 1
    assert s["rejected"]["board size"] == 1
    assert s["rejected"]["illegal move (occupied point)"] == 1
    assert any("illegal.sgf: game 1: illegal move (occupied point) at move 2, W D16" in e
               for e in s["rejected_examples"])
    assert any("garbage.sgf" in e for e in s["rejected_examples"])
    assert s["rejected"]["unreadable game"] == 1  # garbage.sgf; trunc.sgf reads as a game without moves
    assert s["rejected"]["too short"] == 1
    assert s["positions_written"] == 7 * 5
    assert json.loads((out / "summary.json").read_text()) == s
    shards = list((out / "train" / "19x19").glob("*.npz"))
    assert shards and all(read_shard(p).size == 19 for p in shards)
    total = sum(len(b) for b in PositionLoader([out / "train"], batch_size=8, epochs=1, buffer_size=16))
    assert total == 7 * 5  # the duplicate is skipped by the loader too
    # the handicap game kept its two stones as setup
    setups = [len(read_shard(p).game_setup(i)) for p in shards for i in range(read_shard(p).num_games)]
    assert sorted(setups)[-1] == 2


def test_filters(corpus):
    out = corpus / "f"
    s = build([str(corpus / "src")], str(out), BuildOptions(min_rank="3d", no_handicap=True, result_known=True,
                                                             min_moves=5), workers=1, progress=False)
    r = s["rejected"]
    assert r["rank below minimum"] == 1 and r["handicap"] == 1 and r["result unknown"] == 1
    assert s["games_used"] == 2  # a.sgf and b.sgf
    s2 = build([str(corpus / "src")], str(corpus / "g"), BuildOptions(min_moves=6), workers=1, progress=False)
    assert s2["games_used"] == 0 and s2["rejected"]["too short"] >= 5


def test_split_is_by_game_and_deterministic():
    keys = np.random.default_rng(0).integers(0, 2**63, 20000, dtype=np.uint64)
    share = np.mean([is_validation(int(k), 0.1) for k in keys])
    assert 0.09 < share < 0.11
    assert all(is_validation(int(k), 0.1) == is_validation(int(k), 0.1) for k in keys[:100])


def test_rerun_resumes_and_other_options_are_refused(corpus):
    out = corpus / "r"
    inputs = [str(corpus / "src"), str(corpus / "games.tar.gz")]
    first = build(inputs, str(out), BuildOptions(), workers=1, progress=False)
    # as if killed while the only chunk was being written: its record is gone, a temp file is left
    (out / "chunks" / "00000.json").unlink()
    (out / "train" / "19x19" / ".part-00000.npz.123.tmp").write_bytes(b"half")
    again = build(inputs, str(out), BuildOptions(), workers=1, progress=False)
    assert again["games_used"] == first["games_used"] and again["chunks_built_now"] == 1
    done = build(inputs, str(out), BuildOptions(), workers=1, progress=False)
    assert done["chunks_built_now"] == 0 and done["games_used"] == first["games_used"]
    with pytest.raises(ValueError, match="other inputs or options"):
        build(inputs, str(out), BuildOptions(min_moves=3), workers=1, progress=False)


def _distinct_games(n: int) -> list[str]:
    """``n`` 19x19 games, each with another first move (none on the template's later points)."""
    points = [a + b for a in "abcefghijklmno" for b in "abcefghijklmno"]
    return [game(m1=p) for p in points[:n]]


def test_build_reads_what_the_sgf_reader_reads(corpus):
    """One walker: the build reads the files, archives and .sgf.gz that read_sgf_inputs reads."""
    src = corpus / "src"
    with gzip.open(src / "deep" / "c.sgf.gz", "wt") as f:
        f.write(game(m1="rr"))
    (src / "coll.sgfs").write_text(game(m1="ss"))
    stats = ReadStats()
    items = list(read_sgf_inputs([src, corpus / "games.tar.gz", corpus / "games.zip"], stats=stats))
    s = build([str(src), str(corpus / "games.tar.gz"), str(corpus / "games.zip")], str(corpus / "o"),
              BuildOptions(val_fraction=0.0), workers=1, progress=False)
    assert s["files_read"] == stats.files and s["games_read"] == len(items)
    assert s["games_used"] == 7 + 2  # the .sgf.gz and the .sgfs game as well


def test_size_cap_applies_to_archive_members(corpus, monkeypatch):
    big = game(m1="kk", extra="C[" + "x" * 2000 + "]")
    _tar_gz(corpus / "big.tar.gz", {"big.sgf": big, "small.sgf": game(m1="mm")})
    with zipfile.ZipFile(corpus / "big.zip", "w") as zf:
        zf.writestr("big.sgf", big)
        zf.writestr("small.sgf", game(m1="nn"))
    monkeypatch.setattr(databuild, "DEFAULT_MAX_BYTES", 1000)
    s = build([str(corpus / "big.tar.gz"), str(corpus / "big.zip")], str(corpus / "o"), BuildOptions(),
              workers=1, progress=False)
    assert s["games_used"] == 2 and s["rejected"]["unreadable file"] == 2
    assert sorted(e.split(": ")[0].rsplit("/", 1)[-1] for e in s["rejected_examples"]) == ["big.tar.gz:big.sgf",
                                                                                           "big.zip:big.sgf"]
    assert all("larger than 1000 bytes" in e for e in s["rejected_examples"])


def test_truncated_archive_is_counted_once(tmp_path, monkeypatch):
    """An archive that breaks off is one unreadable file, however many chunks and members it
    spans, in the first build and when it resumes; the games before the break are kept."""
    members = {f"g/{i:03d}.sgf": text for i, text in enumerate(_distinct_games(150))}
    _tar_gz(tmp_path / "full.tar.gz", members)
    data = (tmp_path / "full.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    monkeypatch.setattr(databuild, "CHUNK_BYTES", 1000)  # about 8 games a chunk
    out = tmp_path / "o"
    s = build([str(tmp_path / "cut.tar.gz")], str(out), BuildOptions(), workers=1, progress=False)
    assert s["chunks"] > 3 and 0 < s["games_used"] < 150
    assert s["rejected"] == {"unreadable file": 1}
    assert len(s["rejected_examples"]) == 1
    assert s["rejected_examples"][0].startswith(f"{tmp_path / 'cut.tar.gz'}: cannot read: ")
    (out / "chunks" / f"{s['chunks'] - 1:05d}.json").unlink()  # the chunk that met the break, again
    again = build([str(tmp_path / "cut.tar.gz")], str(out), BuildOptions(), workers=1, progress=False)
    assert again["rejected"] == {"unreadable file": 1} and again["games_used"] == s["games_used"]


def test_rank_scale():
    assert rank_value("1k") == 0 and rank_value("1d") == 1 and rank_value("9d") == 9
    assert rank_value("2p") > rank_value("9d") > rank_value("5k")
    assert rank_value("6d*") == 6 and rank_value("") is None and rank_value("?") is None


def test_cli_builds_from_real_records(tmp_path):
    from tengen_cli import main

    src = Path(__file__).resolve().parents[2] / "shared" / "data" / "tom-9d" / "tom-2005-01.sgf"
    if not src.exists():
        pytest.skip("shared game records not present")
    assert main(["data", "build", str(src), "--out", str(tmp_path / "d"), "--quiet", "--workers", "2"]) == 0
    s = json.loads((tmp_path / "d" / "summary.json").read_text())
    assert s["games_read"] > 100 and s["games_used"] > 0.9 * s["games_read"]
    assert s["positions_written"] > 100 * s["games_used"]
