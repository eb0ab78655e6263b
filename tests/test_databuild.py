"""``tengen data build``: filters, split, de-duplication, resuming, bad input, and the CLI."""

import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

import policy.data.build as databuild
from go_engine.sgf import ReadStats, read_sgf_inputs
from policy.data.build import BuildOptions, build, is_validation, rank_value, why_empty
from policy.data.loader import PositionLoader
from policy.data.shards import read_shard
from tengen_cli import main

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


def test_out_of_range_values_are_rejected_and_the_build_goes_on(tmp_path):
    """HA[200] overflowed the shards' int8 and aborted the whole build (and its rerun, on the same
    chunk); such values are rejected with a reason, counted, and the other games kept."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.sgf").write_text(game())
    (src / "ha.sgf").write_text(game(m1="cc", extra="HA[200]"))
    (src / "ha9.sgf").write_text(game(size=9, m1="ee", extra="HA[81]").replace("pq", "gg").replace("qd", "cg")
                                 .replace("dq", "gc"))
    (src / "komi.sgf").write_text(game(m1="ee", komi="2000.5") + game(m1="ff", komi="-1001"))
    (src / "inf.sgf").write_text(game(m1="gg", komi="9" * 400))  # a number, but not a finite one
    (src / "margin.sgf").write_text(game(m1="hh", re="W+8194"))
    (src / "size.sgf").write_text(game(m1="jj", size=1000) + game(m1="kk", size=0))
    (src / "fine.sgf").write_text(game(m1="ll", komi="-999.5", re="B+999.5", extra="HA[127]"))
    out = tmp_path / "o"
    s = build([str(src)], str(out), BuildOptions(size=None), workers=1, progress=False)
    assert s["games_used"] == 2  # ok.sgf and fine.sgf: the bounds themselves are in range
    assert s["rejected"] == {"handicap out of range": 2, "komi out of range": 2, "komi unreadable": 1,
                             "result out of range": 1, "unreadable game": 2}
    examples = "\n".join(s["rejected_examples"])
    for line in ("ha.sgf: game 1: handicap out of range: HA[200] (at most 127 on 19x19)",
                 "ha9.sgf: game 1: handicap out of range: HA[81] (at most 80 on 9x9)",
                 "komi.sgf: game 1: komi out of range: KM[2000.5]", "komi.sgf: game 2: komi out of range: KM[-1001]",
                 "inf.sgf: game 1: komi unreadable: KM[999999999999999999999999...] is not a finite number",
                 "margin.sgf: game 1: result out of range: RE[W+8194]",
                 "size.sgf: game 1 (line 1): SZ[1000]: board size must be from 2 to 25"):
        assert line in examples
    rec = read_shard(next((out / "train" / "19x19").glob("*.npz")))
    assert sorted(rec.handicap.tolist()) == [0, 127] and sorted(rec.komi.tolist()) == [-999.5, 6.5]
    (out / "chunks" / "00000.json").unlink()  # the rerun builds the same chunk again, and gets through
    again = build([str(src)], str(out), BuildOptions(size=None), workers=1, progress=False)
    assert [again[k] for k in ("games_used", "rejected", "rejected_examples")] == \
        [s[k] for k in ("games_used", "rejected", "rejected_examples")]


def test_build_options_are_checked():
    for bad in (dict(size=30), dict(size=1), dict(min_rank="strong"), dict(min_moves=-1), dict(val_fraction=1.5)):
        with pytest.raises(ValueError):
            BuildOptions(**bad)
    assert BuildOptions(size=None, min_rank="2p", val_fraction=1.0).min_rank == "2p"


def _cli(capsys, *argv: str) -> tuple[int, str]:
    rc = main(["data", "build", *argv, "--quiet", "--workers", "1"])
    return rc, capsys.readouterr().err


def test_cli_missing_input_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "a.sgf").write_text(game())
    rc, err = _cli(capsys, str(tmp_path / "a.sgf"), str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"))
    assert rc == 2 and err == f"tengen data build: error: no such file or folder: {tmp_path / 'nowhere'}\n"
    assert not (tmp_path / "o").exists()
    (tmp_path / "file").write_text("")
    rc, err = _cli(capsys, str(tmp_path / "a.sgf"), "--out", str(tmp_path / "file"))
    assert rc == 2 and err.count("\n") == 1 and err.startswith("tengen data build: error: ") and "Traceback" not in err
    rc, err = _cli(capsys, str(tmp_path / "a.sgf"), "--out", str(tmp_path / "o"), "--min-rank", "x")
    assert rc == 2 and err == "tengen data build: error: min rank 'x' is not a rank such as 3k, 5d or 1p\n"


def test_cli_build_keeping_no_game_says_why_and_exits_1(tmp_path, capsys):
    src = tmp_path / "nine"
    src.mkdir()
    for i, p in enumerate(["cc", "gg", "cg"]):
        (src / f"{i}.sgf").write_text(f"(;GM[1]FF[4]SZ[9]KM[7]RE[B+R];B[{p}];W[ee])")
    rc, err = _cli(capsys, str(src), "--out", str(tmp_path / "o"))
    assert rc == 1 and err == "tengen data build: no game kept: all 3 games are 9x9: pass --size 9\n"
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["games_read_by_size"] == {"9x9": 3}
    rc, err = _cli(capsys, str(src), "--out", str(tmp_path / "p"), "--size", "9")
    assert rc == 0 and err == ""
    rc, err = _cli(capsys, str(src), "--out", str(tmp_path / "q"), "--size", "9", "--min-moves", "3")
    assert rc == 1 and err == "tengen data build: no game kept: all 3 games were rejected: too short 3\n"
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no records here")
    rc, err = _cli(capsys, str(tmp_path / "empty"), "--out", str(tmp_path / "r"))
    assert rc == 1 and err.startswith("tengen data build: no game kept: no SGF game found") and err.count("\n") == 1


def test_why_empty_names_the_sizes_there_are():
    summary = {"games_read": 5, "files_read": 2, "games_read_by_size": {"9x9": 3, "13x13": 2},
               "rejected": {"board size": 5}}
    assert why_empty(summary, BuildOptions()) == \
        "no game is 19x19 (3 9x9, 2 13x13): pass --size with one of those, or --size 0 for all"


def test_cli_planted_bad_records_and_a_cut_archive(tmp_path, capsys):
    """What one run on a messy folder does: the good games kept, each bad one counted with its
    reason, the cut archive once, exit 0."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.sgf").write_text(game())
    (src / "ha.sgf").write_text(game(m1="cc", extra="HA[200]"))
    (src / "garbage.sgf").write_bytes(bytes(range(256)) * 4)
    members = {f"g/{i:03d}.sgf": text for i, text in enumerate(_distinct_games(60))}
    _tar_gz(tmp_path / "full.tar.gz", members)
    data = (tmp_path / "full.tar.gz").read_bytes()
    (src / "cut.tar.gz").write_bytes(data[: len(data) // 2])
    rc, err = _cli(capsys, str(src), "--out", str(tmp_path / "o"))
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert rc == 0 and err == ""
    assert s["rejected"]["handicap out of range"] == 1 and s["rejected"]["unreadable file"] == 1
    assert s["rejected"]["unreadable game"] == 1 and 1 < s["games_used"] < 61


def test_rank_scale():
    assert rank_value("1k") == 0 and rank_value("1d") == 1 and rank_value("9d") == 9
    assert rank_value("2p") > rank_value("9d") > rank_value("5k")
    assert rank_value("6d*") == 6 and rank_value("") is None and rank_value("?") is None


def test_cli_builds_from_real_records(tmp_path):
    src = Path(__file__).resolve().parents[2] / "shared" / "data" / "tom-9d" / "tom-2005-01.sgf"
    if not src.exists():
        pytest.skip("shared game records not present")
    assert main(["data", "build", str(src), "--out", str(tmp_path / "d"), "--quiet", "--workers", "2"]) == 0
    s = json.loads((tmp_path / "d" / "summary.json").read_text())
    assert s["games_read"] > 100 and s["games_used"] > 0.9 * s["games_read"]
    assert s["positions_written"] > 100 * s["games_used"]
