"""The GTP engine: protocol, commands, analysis streaming, scoring, options."""

import io
import os
import re
import subprocess
import sys
import threading
import time

import pytest

from go_engine.sgf import parse_sgf
from gtp.engine import GtpEngine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LZ_INFO = re.compile(r"info move (pass|[A-HJ-Z]\d+) visits \d+ winrate \d+ prior \d+ lcb \d+ order \d+ "
                     r"pv( (pass|[A-HJ-Z]\d+))+")
FLOAT = r"-?\d+(\.\d+)?"
KATA_INFO = re.compile(rf"info move (pass|[A-HJ-Z]\d+) visits \d+ utility {FLOAT} winrate {FLOAT} "
                       rf"scoreMean {FLOAT} scoreStdev {FLOAT} scoreLead {FLOAT} scoreSelfplay {FLOAT} "
                       rf"prior {FLOAT} lcb {FLOAT} utilityLcb {FLOAT} order \d+ pv( (pass|[A-HJ-Z]\d+))+")


def session(lines, **kw):
    """Run ``lines`` through a fresh engine; returns the responses (text of each, without the blank line)."""
    kw.setdefault("visits", 16)
    kw.setdefault("log", io.StringIO())
    eng = GtpEngine(**kw)
    out = io.StringIO()
    eng.run(io.StringIO("".join(l + "\n" for l in lines)), out)
    text = out.getvalue()
    assert text.endswith("\n\n") or text == ""
    return [r for r in text.split("\n\n") if r], eng


def test_protocol_basics():
    res, _ = session(["1 protocol_version", "# a comment", "", "2 name", "bogus_cmd", "3 bogus_cmd",
                      "4 boardsize 26", "5 boardsize 9", "6 play b Z30", "7 play b E5", "8 play w E5",
                      "9 play q E5", "10 play b", "11 known_command genmove", "12 known_command nope",
                      "13\tkomi\x01 6.5", "14 undo", "15 undo", "16 version"])
    assert res == ["=1 2", "=2 Tengen", "? unknown command", "?3 unknown command",
                   "?4 unacceptable size", "=5", res[6], "=7", res[8], res[9], res[10],
                   "=11 true", "=12 false", "=13", "=14", "?15 cannot undo", res[16]]
    assert res[6].startswith("?6 ") and res[8].startswith("?8 illegal move")
    assert res[9].startswith("?9 ") and res[10].startswith("?10 ")
    assert res[16].startswith("=16 ")


def test_list_commands_and_quit():
    res, _ = session(["list_commands", "quit", "name"])
    cmds = res[0][2:].split("\n")
    for c in ("protocol_version", "genmove", "lz-analyze", "kata-analyze", "kgs-genmove_cleanup",
              "kata-set-rules", "final_status_list", "loadsgf", "lz-genmove_analyze", "kgs-time_settings"):
        assert c in cmds
    assert res[1] == "=" and len(res) == 2  # nothing after quit


def test_game_with_undo_and_scoring():
    lines = ["boardsize 7", "komi 0.5"]
    for i in range(12):
        lines.append(f"genmove {'b' if i % 2 == 0 else 'w'}")
    lines += ["undo", "undo", "genmove b", "play w pass", "final_score", "final_status_list dead",
              "final_status_list alive", "showboard", "printsgf"]
    res, eng = session(lines, resign_threshold=0)
    moves = res[2:14]
    assert all(re.fullmatch(r"= (pass|[A-G][1-7])", m) for m in moves), moves
    assert res[14] == "=" and res[15] == "="
    assert re.fullmatch(r"= (B\+\d+(\.\d+)?|W\+\d+(\.\d+)?|0)", res[18])
    assert len(eng.game.moves) == 12
    sgf = res[22][2:]
    g = parse_sgf(sgf)[0].replay()
    assert g.moves == eng.game.moves and g.size == 7


def test_dead_stones_after_two_passes():
    """Once both players passed, dead stones are still judged by playing the position out
    (a finished game's playouts would end at once and call every stone alive)."""
    from go_engine import Game
    eng = GtpEngine(visits=8, log=io.StringIO())
    eng.game = Game.from_diagram("""
        . O . O .
        O O O O O
        O X X . O
        O O O O O
        . O . O .""", komi=0.5)
    for req in ("play b pass", "play w pass"):
        assert eng.handle(req)[1]
    assert eng.game.is_over
    assert sorted(eng.handle("final_status_list dead")[0][2:].split()) == ["B3", "C3"]
    assert eng.handle("final_score")[0] == "= W+25.5\n\n"


def test_a_seki_is_neither_dead_nor_counted():
    """GNU Go 3.8 scores this end of a game W+30 with Black's nine upper-right stones dead and the lower left
    in seki; random playouts fill the seki's shared liberties and used to kill White's fourteen stones."""
    from go_engine import Game
    from tests.test_deadstones import SEKI
    eng = GtpEngine(visits=8, log=io.StringIO())
    eng.game = Game.from_diagram(SEKI, komi=7)
    dead = sorted(eng.handle("final_status_list dead")[0][2:].split())
    assert dead == ["E8", "E9", "F9", "G9", "H7", "H8", "J6", "J7", "J9"]
    seki = eng.handle("final_status_list seki")[0][2:].split()
    assert sorted(seki) == sorted("A2 A3 A4 B2 B3 C2 C3 C4 C5 D2 E2 E3 F1 F2 B1 C1 D1".split())
    assert eng.handle("final_score")[0] == "= W+30\n\n"


def test_handicap_and_free_handicap():
    res, eng = session(["boardsize 9", "fixed_handicap 4", "genmove w", "clear_board", "fixed_handicap 12",
                        "place_free_handicap 3", "clear_board", "set_free_handicap C3 G7", "play b E5",
                        "set_free_handicap D4 D5"])
    assert res[1] == "= C3 G7 C7 G3"
    assert re.fullmatch(r"= \S+", res[2])
    assert res[4].startswith("?") and len(res[5][2:].split()) == 3
    assert res[7] == "=" and res[9].startswith("?")


def test_time_controls_respected():
    res, eng = session(["boardsize 9", "time_settings 10 0 0", "time_left b 2 0", "genmove b",
                        "kgs-time_settings byoyomi 0 1 3", "time_left w 1 3", "genmove w",
                        "kgs-time_settings canadian 0 2 4", "time_left b 2 4", "genmove b",
                        "kgs-time_settings none"], visits=100000)
    assert [r[0] for r in res] == ["="] * len(res)
    t = time.monotonic()
    eng.cmd_time_settings("0", "1", "1")
    eng.cmd_time_left("w", "1", "1")
    eng.cmd_genmove("w")
    assert time.monotonic() - t < 1.0


def test_loadsgf(tmp_path):
    p = tmp_path / "g.sgf"
    p.write_text("(;GM[1]FF[4]SZ[9]KM[6.5];B[ee];W[cc];B[gg];W[cg])")
    res, eng = session([f"loadsgf {p}", "showboard", f"loadsgf {p} 3", "genmove b", "loadsgf /nonexistent.sgf"])
    assert res[0] == "="
    assert res[3].startswith("=") and res[4].startswith("?")
    assert eng.game.komi == 6.5 and len(eng.game.moves) == 3  # 2 moves loaded + genmove
    assert eng.game.moves[:2] == [("B", "E5"), ("W", "C7")]


def test_rules_commands():
    res, eng = session(["boardsize 9", "play b E5", "kata-set-rules japanese", "kgs-rules new_zealand",
                        "kata-set-rules nonsense", "kgs-rules chinese"])
    assert res[:4] == ["=", "=", "=", "="] and res[4].startswith("?") and res[5] == "="
    assert eng.game.moves == [("B", "E5")]


def test_lz_analyze_streams_until_next_command():
    res, _ = session(["boardsize 9", "1 lz-analyze b 1", "2 name"])
    body = res[1].split("\n")
    assert body[0] == "=1"
    assert len(body) >= 2
    for line in body[1:]:
        for seg in re.split(r" (?=info )", line):
            assert LZ_INFO.fullmatch(seg), seg
    assert res[2] == "=2 Tengen"


def test_analyze_minmoves_and_maxmoves():
    res, _ = session(["boardsize 9", "1 lz-analyze b 1 minmoves 20", "2 kata-analyze w 1 maxmoves 2",
                      "3 lz-analyze 1 maxmoves x", "4 kata-analyze interval nan", "5 lz-analyze minmoves -1"])
    lz = re.split(r" (?=info )", res[1].split("\n")[1])
    assert len(lz) == 20 and all(LZ_INFO.fullmatch(seg) for seg in lz)
    visits = [int(seg.split()[4]) for seg in lz]
    assert visits == sorted(visits, reverse=True) and visits[-1] == 0 < visits[0]  # unvisited ones follow
    assert [int(seg.split(" order ")[1].split()[0]) for seg in lz] == list(range(20))
    kata = re.split(r" (?=info )", res[2].split("\n")[1])
    assert 1 <= len(kata) <= 2 and all(KATA_INFO.fullmatch(seg) for seg in kata)
    assert res[3] == "?3 maxmoves: expected a number, got 'x'"
    assert res[4].startswith("?4 interval: expected a number") and res[5].startswith("?5 minmoves must be")


def test_analyze_avoid_and_allow_at_the_root():
    def moves(resp):
        return [seg.split()[2] for seg in re.split(r" (?=info )", resp.split("\n")[1])]

    res, _ = session(["boardsize 9", "1 kata-analyze b 1 avoid b E5,e4,D5,pass 1 minmoves 80",
                      "2 lz-analyze b 1 allow b C3,G7 2 minmoves 10", "3 lz-analyze b 1 avoid w E5 1 minmoves 82",
                      "4 lz-analyze b 1 allow b C3 1 allow b D4 1", "5 lz-analyze b 1 avoid b C3 1 allow b D4 1",
                      "6 lz-analyze b 1 avoid b Z9 1", "7 lz-analyze b 1 avoid b C3 0"])
    first = moves(res[1])
    assert len(first) == 78 and not {"E5", "E4", "D5", "pass"} & set(first)  # 82 moves less the 4 avoided
    assert sorted(moves(res[2])) == ["C3", "G7"]
    assert "E5" in moves(res[3]) and len(moves(res[3])) == 82  # a clause for White binds no root move
    assert res[4] == "?4 allow may be given once" and res[5] == "?5 avoid and allow cannot be combined"
    assert res[6].startswith("?6 avoid: invalid vertex") and res[7].startswith("?7 avoid: the depth must be")


def test_lz_analyze_over_pipe_stops_on_command():
    """The analysis keeps streaming while stdin is quiet and stops when a command arrives."""
    r_fd, w_fd = os.pipe()
    rin, win = os.fdopen(r_fd, "r"), os.fdopen(w_fd, "w")
    out = _LineSink()
    eng = GtpEngine(visits=8, log=io.StringIO())
    th = threading.Thread(target=eng.run, args=(rin, out), daemon=True)
    th.start()
    win.write("boardsize 7\nlz-analyze 5\n")
    win.flush()
    assert out.wait_for(lambda t: t.count("info move") >= 3, 20)
    win.write("7 name\n")
    win.close()
    th.join(20)
    assert not th.is_alive()
    text = out.text()
    assert text.endswith("=7 Tengen\n\n")
    assert "\n\n=7 Tengen" in text


class _LineSink(io.StringIO):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def write(self, s):
        with self.lock:
            return super().write(s)

    def text(self):
        with self.lock:
            return self.getvalue()

    def wait_for(self, cond, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond(self.text()):
                return True
            time.sleep(0.02)
        return False


def test_ponder_on_the_opponents_time_and_reuse_the_tree():
    """With pondering the engine searches after its own move until the next request; the
    opponent's reply keeps that subtree, whose visits count towards the next move's visit cap."""
    r_fd, w_fd = os.pipe()
    rin, win = os.fdopen(r_fd, "r"), os.fdopen(w_fd, "w")
    out, log = _LineSink(), _LineSink()
    eng = GtpEngine(visits=64, ponder=True, ponder_visits=3000, log=log)
    th = threading.Thread(target=eng.run, args=(rin, out), daemon=True)
    th.start()
    win.write("boardsize 7\n1 genmove b\n")
    win.flush()
    assert out.wait_for(lambda t: "=1 " in t, 30)
    assert log.wait_for(lambda t: "pondered" in t, 60)  # searched up to ponder_visits, then waited
    pondered = int(re.search(r"pondered (\d+) visits", log.text()).group(1))
    assert pondered > 64
    reply = eng.search.analysis()[0]["move"]  # the reply the ponder search expects most
    win.write(f"2 play w {reply}\n3 genmove b\n")
    win.flush()
    assert out.wait_for(lambda t: "=3 " in t, 30)
    win.close()
    th.join(20)
    # the tree after the expected reply held more than the cap: no new search was needed
    visits = [int(v) for v in re.findall(r"genmove B: \S+ winrate \S+ visits (\d+)", log.text())]
    assert len(visits) == 2 and visits[1] > 64, log.text()


def test_seconds_per_move_without_a_clock():
    responses, eng = session(["boardsize 9", "genmove b", "genmove w"], visits=10 ** 6, move_seconds=0.3)
    assert all(r.startswith("=") for r in responses)
    secs = [float(t) for t in re.findall(r"in (\d+\.\d+)s", eng.log_file.getvalue())]
    assert len(secs) == 2 and all(0.25 <= t < 1.5 for t in secs), secs


def test_visit_cap_counts_the_reused_subtree():
    responses, eng = session(["boardsize 7", "genmove b", "genmove w"], visits=40)
    assert all(r.startswith("=") for r in responses)
    log = eng.log_file.getvalue()
    # the second search started from the first one's subtree (some visits) and was topped up to 40
    assert [int(v) for v in re.findall(r"visits (\d+)", log)] == [40, 40]


def test_kata_analyze_with_ownership_and_genmove_analyze():
    res, eng = session(["boardsize 7", "kata-analyze w 1 ownership true", "kata-genmove_analyze b 1",
                        "lz-genmove_analyze w"])
    body = res[1].split("\n")
    assert body[0] == "="
    line = body[1]
    main, own = line.split(" ownership ")
    assert len(own.split()) == 49 and all(-1 <= float(x) <= 1 for x in own.split())
    for seg in re.split(r" (?=info )", main):
        assert KATA_INFO.fullmatch(seg), seg
    ga = res[2].split("\n")
    assert ga[0] == "=" and KATA_INFO.match(ga[1]) and re.fullmatch(r"play \S+", ga[-1])
    gl = res[3].split("\n")
    assert LZ_INFO.match(gl[1]) and re.fullmatch(r"play \S+", gl[-1])
    assert len(eng.game.moves) == 2


def test_random_moves_vary_openings_and_a_seed_repeats_them():
    def opening(**kw):
        res, _ = session(["boardsize 9"] + ["genmove b", "genmove w"] * 3, visits=24, **kw)
        return tuple(res[1:])

    assert opening() == opening()  # without random moves, games repeat
    assert len({opening(random_moves=4) for _ in range(4)}) > 1  # draws seeded afresh in each engine
    assert opening(random_moves=4, seed=3) == opening(random_moves=4, seed=3)


def test_subprocess_pipes_and_eof():
    code = f"import sys; sys.path.insert(0, {ROOT!r}); from gtp.engine import run_gtp; run_gtp(None, visits=8)"
    p = subprocess.run([sys.executable, "-c", code], input="1 boardsize 7\n2 genmove b\n3 nonsense\n4 name\n",
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    res = [r for r in p.stdout.split("\n\n") if r]
    assert res[0] == "=1" and re.fullmatch(r"=2 [A-G][1-7]", res[1]) and res[2].startswith("?3")
    assert res[3] == "=4 Tengen"
    assert "genmove" in p.stderr and "genmove" not in p.stdout


def test_warm_up_compiles_what_a_timed_genmove_uses():
    """In a fresh process, warm_up leaves the tree-reuse kernel and the playouts behind the reply to a
    pass compiled (or loaded from the cache): neither may cost seconds inside a move on the clock."""
    code = (f"import sys; sys.path.insert(0, {ROOT!r}); from gtp.engine import build_engine; "
            "from selfplay.tree import k_compact; from go_engine.playout import k_playouts; "
            "kernels = (k_compact, k_playouts); e = build_engine(visits=8, size=7); "  # the bundled network
            "print([len(k.signatures) for k in kernels]); e.warm_up(); print([len(k.signatures) for k in kernels])")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:2] == ["[0, 0]", "[1, 1]"]


def test_config_file_gives_defaults_the_command_line_overrides(tmp_path, capsys):
    from tengen_cli import main, parse_args
    cfg = tmp_path / "tengen.toml"
    cfg.write_text('visits = 77\nresign-threshold = 0.0\n[gtp]\nkomi = 6.5\nrules = "japanese"\n[play]\nkomi = 0.5\n')
    args = parse_args(["gtp", "--config", str(cfg), "--rules", "aga"])
    assert (args.visits, args.resign_threshold, args.komi, args.rules) == (77, 0.0, 6.5, "aga")
    assert parse_args(["play", "--config", str(cfg)]).komi == 0.5
    cfg.write_text("visits = 5\nponies = 3\n")
    assert main(["gtp", "--config", str(cfg)]) == 2
    assert "unknown option(s) for tengen gtp: ponies" in capsys.readouterr().err
    cfg.write_text("visits = [\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        parse_args(["gtp", "--config", str(cfg)])
    with pytest.raises(ValueError, match="No such file"):
        parse_args(["gtp", "--config", str(tmp_path / "missing.toml")])


class _LovesPassing:
    """Priors all on pass, every position even: a search that passes whenever it may."""

    needs_history = False

    def __call__(self, leaves):
        import numpy as np

        from selfplay.search import Evaluation
        a = leaves.size * leaves.size + 1
        p = np.full((len(leaves), a), 1e-4, dtype=np.float32)
        p[:, -1] = 1.0
        zeros = np.zeros(len(leaves), dtype=np.float32)
        return Evaluation(p, zeros, zeros)


CHAOS = """
. . . . . . . . .
. . X . . . X . .
. X O . . . O X .
. . X . . . X . .
X X X X X X X X X
O O O O O O O O O
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
"""


def _after_pass(eng, diagram: str, komi: float, passer: str = "B"):
    """The position of ``diagram`` after ``passer``'s pass, loaded into ``eng``."""
    from go_engine.game import Game

    g = Game.from_diagram(diagram, to_play=passer, komi=komi)
    g.play("pass")
    eng.load(g)
    return g


def test_no_pass_into_a_count_that_loses_once_dead_stones_are_removed():
    # White's stones C7 and G7 are dead in Black's area: counted as they stand (Tromp-Taylor) White
    # wins by 23.5, with them removed Black wins by 8.5. Black has passed; White must not pass back.
    eng = GtpEngine(visits=24, log=io.StringIO())
    eng.evaluator = _LovesPassing()
    g = _after_pass(eng, CHAOS, 0.5)
    assert g.score() < 0 < g.final_score(eng.dead_stones(g))
    move = eng.genmove("W", play=False)
    assert move not in ("pass", "resign") and not g.fills_own_eye(move, "W")
    # and the move comes from a search of the moves that play on, not from the scraps of one that
    # spent its visits on the pass (its Tromp-Taylor win also kept the win rate too high to resign)
    s = eng.player.search
    visits = {a["move"]: a["visits"] for a in s.analysis(min_moves=81)}
    assert "pass" not in visits and s.root_visits >= 24 and sum(visits.values()) == s.root_visits - 1
    assert visits[move] == max(visits.values())
    # where the count with dead stones removed wins, the same search passes back
    _after_pass(eng, CHAOS, 20.5)
    assert eng.genmove("W", play=False) == "pass"


def test_no_pass_into_a_lost_count_beside_a_seki():
    """Game 34 of a 9x9 match against GNU Go: White passed, Tengen (Black) passed back counting a draw, with
    White's stones in the lower-left seki dead, and GNU Go's count was W+30. Black must play on; White,
    whose count wins, may pass back."""
    from tests.test_deadstones import SEKI
    eng = GtpEngine(visits=24, log=io.StringIO())
    eng.evaluator = _LovesPassing()
    g = _after_pass(eng, SEKI, 7, passer="W")
    assert g.final_score(eng.dead_if_passing(g, "B")) == -30
    assert eng.genmove("B", play=False) != "pass"
    g = _after_pass(eng, SEKI, 7, passer="B")
    assert g.final_score(eng.dead_if_passing(g, "W")) == -30
    assert eng.genmove("W", play=False) == "pass"


# Two positions from Tengen's 9x9 games against GNU Go (komi 7) in which GNU Go had just passed and Tengen
# played on for 17 and 11 moves with nothing left to gain: settled, White to move loses by 10 (White's stones
# on the first line and H2 are dead); settled, Black to move draws (F1-J1, C7 and D8 are dead).
SETTLED_LOSS = """
. . . O X X X X X
. . O O X O O X X
O O . O O O X X .
O . O O X O X . .
O O . O X O X . .
X O O O X O X . .
X O O X X X X X X
X X X X X . . O .
. X . O O O O O O
"""
SETTLED_DRAW = """
. . . X . X X X X
X . . O X . X O X
. X O . X X O O X
X X X X . X X O O
O X X . X . X O O
O X X X X X O . O
O X O X O O O O O
O O O O O O . . .
O O O O O X X X X
"""


def test_a_settled_position_that_does_not_win_ends_the_game_once_the_opponent_passes():
    eng = GtpEngine(visits=24, log=io.StringIO())
    eng.evaluator = _LovesPassing()
    loss = _after_pass(eng, SETTLED_LOSS, 7)
    assert eng.settled_count(loss, "W") == -10
    assert eng.genmove("W", play=False) == "resign"
    eng.options.resign_threshold = 0  # no resigning: pass, and the count decides
    assert eng.genmove("W") == "pass" and loss.is_over and loss.final_score(eng.dead_stones(loss)) == 10
    draw = _after_pass(eng, SETTLED_DRAW, 7, passer="W")
    assert eng.settled_count(draw, "B") == 0 and eng.genmove("B", play=False) == "pass"
    # where the count wins, the search passes back as before; where something is left to play for (CHAOS:
    # White's group could still die), the count is not taken as settled and the search plays on
    won = _after_pass(eng, SETTLED_LOSS, 17.5)
    assert eng.settled_count(won, "W") == 0.5 and eng.genmove("W", play=False) == "pass"
    chaos = _after_pass(eng, CHAOS, 0.5)
    assert eng.settled_count(chaos, "W") is None
    assert eng.genmove("W", play=False) not in ("pass", "resign")


# From a 9x9 game against GNU Go (komi 7) that Tengen lost by 6 after passing here: Black's stones on the
# first line at the lower right live if Black moves first in random playouts and die if White does.
UNSETTLED = """
X X X X X X O O .
X X X X X X X O O
. X X . X X X X O
X X X X X X X O .
X X X X X X X O O
X X X X O X O . X
O O O X O O O O O
. O . O X X O O .
O . O O X X X X X
"""


def test_passing_back_is_judged_by_the_lower_count_with_either_player_to_move():
    eng = GtpEngine(visits=24, log=io.StringIO())
    eng.evaluator = _LovesPassing()
    g = _after_pass(eng, UNSETTLED, 7, passer="W")
    from go_engine import deadstones

    ours = g.final_score(deadstones.dead_stones(g, deadstones.playout_ownership(g)))
    theirs = g.final_score(eng.dead_if_passing(g, "B"))
    assert (ours, theirs) == (12, -6)  # the count GNU Go gave is the second
    assert eng.settled_count(g, "B") is None
    # the tree leaves the pass out (passing loses); Black's only moves are its own eyes at A7 and D7,
    # which it does not fill (the next test), so it passes in the end
    move = eng.genmove("B", play=False)
    assert "pass" not in {a["move"] for a in eng.player.search.analysis()} and move == "pass"


# From a 9x9 game against GNU Go (komi 7): White has passed, the count is a draw and the top is still
# open. Kept from passing, Tengen filled its own area and then its own eyes for 45 moves and lost by 88.
OPEN_DRAW = """
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . X X X X X
X X X X O O X O X
X O O O . O X O O
O O . . O . O O .
X X . . . O O . .
. . . . . . . . .
"""


class _LovesPoint(_LovesPassing):
    """Priors all on one point (a vertex), every position even."""

    def __init__(self, vertex: str) -> None:
        self.vertex = vertex

    def __call__(self, leaves):
        from go_engine.coords import COLUMNS

        ev = super().__call__(leaves)
        point = (int(self.vertex[1:]) - 1) * leaves.size + COLUMNS.index(self.vertex[0])
        ev.priors[:, -1] = 1e-4
        ev.priors[:, point] = 1.0
        return ev


def g_count(eng, game, color: str) -> float:
    """``color``'s count if it passed now, as genmove judges it."""
    from gtp.state import count_for

    return count_for(game, color, eng.dead_if_passing(game, color))


def test_a_drawn_count_may_be_passed_into_but_a_lost_one_never_fills_an_own_eye():
    eng = GtpEngine(visits=24, log=io.StringIO())
    eng.evaluator = _LovesPassing()
    draw = _after_pass(eng, OPEN_DRAW, 7, passer="W")
    assert g_count(eng, draw, "B") == 0 and eng.settled_count(draw, "B") is None
    assert eng.genmove("B", play=False) == "pass"  # the search's choice: a draw is not refused
    # UNSETTLED loses the count for Black: the pass stays out of the tree, and the search's favourite,
    # Black's own eye at A7, is not played either; Black's only other legal move is its eye at D7, so
    # it passes and loses by the count rather than by its whole group
    lost = _after_pass(eng, UNSETTLED, 7, passer="W")
    eng.evaluator = _LovesPoint("A7")
    assert g_count(eng, lost, "B") < 0 and set(lost.legal_moves("B")) == {"A7", "D7", "pass"}
    assert lost.fills_own_eye("A7", "B") and lost.fills_own_eye("D7", "B")
    move = eng.genmove("B", play=False)
    visits = {a["move"]: a["visits"] for a in eng.player.search.analysis()}
    assert visits.get("A7", 0) > 0 and "pass" not in visits and move == "pass"


def test_two_passes_in_the_tree_count_the_dead_stones_it_is_given():
    # CHAOS at komi 0.5 after Black's pass: Tromp-Taylor gives White 23.5, the count without the dead
    # white stones C7 and G7 gives Black 8.5; White's pass ends the game in the tree
    from go_engine.game import Game
    from selfplay.search import Search

    g = Game.from_diagram(CHAOS, to_play="B", komi=0.5)
    g.play("pass")
    for dead, lead in (([], 23.5), (["C7", "G7"], -8.5)):
        s = Search(g, seed=0)
        s.count_dead_stones([g._point(v) for v in dead])
        s.run(40, _LovesPassing(), batch_size=8)
        got = {a["move"]: a for a in s.analysis()}["pass"]
        assert got["visits"] > 0 and got["scoreLead"] == lead and got["winrate"] == (1.0 if lead > 0 else 0.0)
        with pytest.raises(ValueError, match="before searching"):
            s.count_dead_stones([])


def _state(eng):
    """What a refused command must leave as it was."""
    g = eng.game
    return (g.size, g.komi, g.rules.name, list(g.history), g.passes, g.to_play, g.resigned, g.handicap,
            g.board.tobytes(), eng.size, eng.komi, eng.rules)


def test_after_two_passes_moves_and_analysis_resume_with_a_fresh_tree():
    """genmove, kgs-genmove_cleanup, the genmove_analyze variants and the analyses after two passes resume
    the game (the tree of the last move, whose game is over, is not reused)."""
    two = ["play w pass", "play b pass"]
    res, eng = session(["boardsize 7", "genmove b"] + two + ["1 genmove w"] + two
                       + ["2 kgs-genmove_cleanup w"] + two + ["3 lz-genmove_analyze w 1"] + two
                       + ["4 kata-genmove_analyze w 1"] + two + ["5 lz-analyze w 1", "6 kata-analyze b 1", "7 name"],
                       resign_threshold=0)
    answers = {r.split()[0][1:]: r for r in res if r[1:2].isdigit()}
    assert all(r.startswith("=") for r in res), res
    assert re.fullmatch(r"=1 [A-G][1-7]", answers["1"]) and re.fullmatch(r"=2 [A-G][1-7]", answers["2"])
    assert answers["3"].split("\n")[-1].startswith("play ") and answers["4"].split("\n")[-1].startswith("play ")
    assert LZ_INFO.match(answers["5"].split("\n")[1]) and KATA_INFO.match(answers["6"].split("\n")[1])
    assert answers["7"] == "=7 Tengen"
    assert len(eng.game.moves) == 1 + 2 + 1 + 2 + 1 + 2 + 1 + 2 + 1 + 2


def test_a_refused_play_leaves_the_game_as_it_was_even_when_over():
    eng = GtpEngine(visits=8, log=io.StringIO())
    for req in ("boardsize 7", "play b D4", "play w pass", "play b pass"):
        assert eng.handle(req)[1]
    before = _state(eng)
    assert eng.game.is_over
    for req in ("1 play w D4", "2 play w Z9", "3 play x D3", "4 play w", "5 komi 1e308", "6 komi nan",
                "7 komi inf", "8 boardsize 99999999999999999999", "9 time_settings nan 1 1", "10 time_left b 1"):
        resp, ok, _ = eng.handle(req)
        assert not ok and resp.startswith("?"), (req, resp)
        assert _state(eng) == before, req
    assert eng.game.is_over
    for req in ("undo", "undo", "play w resign"):  # back before the passes; a resignation is no vertex
        eng.handle(req)
    eng.game.resign("W")
    before = _state(eng)
    resp, ok, _ = eng.handle("11 genmove b")
    assert resp == "?11 the game is over: W resigned\n\n" and _state(eng) == before


def test_komi_is_finite_and_within_bounds():
    eng = GtpEngine(visits=8, log=io.StringIO())
    assert eng.handle("komi -999.5")[1] and eng.game.komi == -999.5
    assert eng.handle("1 komi 1e308")[0] == "?1 komi must be a finite number from -1000 to 1000, got 1e+308\n\n"
    assert eng.handle("2 komi NaN")[0] == "?2 komi: expected a number, got 'NaN'\n\n"
    assert eng.game.komi == eng.komi == -999.5
    res, _ = session(["boardsize 7", "komi 999", "1 kata-analyze b 1", "2 genmove b", "3 final_score"])
    assert all(r.startswith("=") and not re.search(r"(?i)\b(nan|inf|infinity)\b", r) for r in res), res
    assert KATA_INFO.match(res[2].split("\n")[1]) and res[4] == "=3 W+" + res[4][5:]


def test_ponder_survives_two_passes_and_what_it_meets():
    r_fd, w_fd = os.pipe()
    rin, win = os.fdopen(r_fd, "r"), os.fdopen(w_fd, "w")
    out, log = _LineSink(), _LineSink()
    eng = GtpEngine(visits=16, ponder=True, ponder_visits=200, log=log, resign_threshold=0)
    th = threading.Thread(target=eng.run, args=(rin, out), daemon=True)
    th.start()
    for req in ("boardsize 7", "1 genmove b", "2 play w pass", "3 play b pass", "4 genmove w", "5 play b pass",
                "6 play w pass", "7 kgs-genmove_cleanup b", "8 undo", "9 genmove b", "10 name"):
        win.write(req + "\n")
        win.flush()
        time.sleep(0.05)
    assert out.wait_for(lambda t: "=10 " in t, 60), out.text()
    win.close()
    th.join(20)
    assert not th.is_alive()
    answers = [r for r in out.text().split("\n\n") if r]
    assert len(answers) == 11 and all(a.startswith("=") for a in answers), answers
    assert "pondering stopped" not in log.text()


def test_loadsgf_reads_regular_files_only_and_file_commands_can_be_disabled(tmp_path):
    fifo = tmp_path / "fifo.sgf"
    os.mkfifo(fifo)
    big = tmp_path / "big.sgf"
    from gtp.commands.core import LOADSGF_MAX_BYTES
    big.write_bytes(b"(;GM[1]SZ[9]C[" + b"x" * LOADSGF_MAX_BYTES + b"])")
    good = tmp_path / "g.sgf"
    good.write_text("(;GM[1]FF[4]SZ[9]KM[6.5];B[ee];W[cc])")
    eng = GtpEngine(visits=8, log=io.StringIO())
    t0 = time.monotonic()
    for path, why in (("/dev/zero", "not a regular file"), (fifo, "not a regular file"),
                      (tmp_path, "not a regular file"), (big, f"larger than {LOADSGF_MAX_BYTES} bytes"),
                      (tmp_path / "missing.sgf", "No such file")):
        resp, ok, _ = eng.handle(f"1 loadsgf {path}")
        assert not ok and why in resp and resp.count("\n") == 2, resp
    assert time.monotonic() - t0 < 5
    assert eng.handle(f"2 loadsgf {good} 2")[0] == "=2\n\n" and eng.game.moves == [("B", "E5")]
    out = tmp_path / "out.sgf"
    assert eng.handle(f"3 printsgf {out}")[0] == "=3\n\n" and "B[ee]" in out.read_text()
    locked = GtpEngine(visits=8, log=io.StringIO(), file_commands=False)
    for req in (f"4 loadsgf {good}", f"5 printsgf {tmp_path / 'new.sgf'}"):
        resp, ok, _ = locked.handle(req)
        assert not ok and "disabled" in resp and "--no-file-commands" in resp
    assert not (tmp_path / "new.sgf").exists() and locked.game.moves == []
    assert locked.handle("6 printsgf")[0].startswith("=6 (;")  # the record on the wire reads no file


@pytest.mark.parametrize("env", [{"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "ascii"},
                                 {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
                                 {"LC_ALL": "en_US.ISO-8859-1", "PYTHONIOENCODING": "latin-1", "PYTHONUTF8": "0"}])
def test_bytes_that_are_not_utf8_get_an_error_under_any_locale(env):
    """stdin is read as bytes whatever the locale's encoding, so no byte ends the engine."""
    code = (f"import sys; sys.path.insert(0, {ROOT!r}); from gtp.engine import run_gtp; "
            "sys.exit(run_gtp('none', visits=8, size=7))")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONIOENC", "PYTHONUTF8"))}
    p = subprocess.run([sys.executable, "-c", code], env={**environ, **env}, capture_output=True, timeout=120,
                       input=b"1 name\n2 play b \xff\xfe\n3 echo caf\xc3\xa9 \xe9\n\xff\n4 play b C3\n"
                             b"5 komi \xd9\xa3\n6 showboard\n7 quit\n")
    assert p.returncode == 0, p.stderr
    answers = p.stdout.decode().split("\n\n")
    assert answers[:5] == ["=1 Tengen", "?2 request is not valid UTF-8", "?3 request is not valid UTF-8",
                           "? request is not valid UTF-8", "=4"], answers
    assert answers[5] == "?5 komi: expected a number, got '\u0663'"  # numbers are ASCII, as ids
    assert "X" in answers[6] and answers[7:] == ["=7", ""]
    assert b"Traceback" not in p.stderr


GNUGO = "/usr/games/gnugo"


@pytest.mark.skipif(not os.path.exists(GNUGO), reason="GNU Go 3.8 is not installed (apt-get install gnugo)")
def test_a_losing_engine_does_not_cycle_through_the_opponents_passes():
    """From the 9x9 match game that ran to the move cap (tests/fixtures/sgf/cycle-with-passes.sgf: Tengen
    White, 2 points behind, had repeated an 8-move cycle of throw-ins while GNU Go passed), the bundled
    network plays on against GNU Go level 10 for up to 40 moves and never recreates a position with a pass
    since it stood (with such a repetition scored as a draw it replayed the cycle at once)."""
    from go_engine.game import Game
    from go_engine.gtp_client import GtpClient
    from go_engine.sgf import read_sgf_file
    from tests.test_search import _repetition

    rec = read_sgf_file(os.path.join(ROOT, "tests", "fixtures", "sgf", "cycle-with-passes.sgf"))[0]
    eng = GtpEngine(visits=200, log=io.StringIO())
    g = Game(9, komi=7)
    line = [((g.board.tobytes(), g.to_play), False)]  # each position and whether a pass led to it
    with GtpClient(f"{GNUGO} --mode gtp --level 10 --chinese-rules") as gnu:
        for cmd in ("boardsize 9", "clear_board", "komi 7") + tuple(f"play {c} {v}" for c, v in rec.moves):
            assert eng.handle(cmd)[0].startswith("="), cmd
            gnu.send(cmd)
        for c, v in rec.moves:
            g.play(v, c)
            line.append(((g.board.tobytes(), g.to_play), v == "pass"))
        for _ in range(40):
            color = g.to_play
            if color == "W":
                move = eng.handle("genmove W")[0][2:].strip().lower()
                if move == "resign":
                    break
                gnu.send(f"play W {move}")
            else:
                move = gnu.send("genmove B").strip().lower()
                eng.handle(f"play B {move}")
            g.play(move, color)
            key = (g.board.tobytes(), g.to_play)
            if color == "W" and move != "pass":
                assert _repetition(line, key) is not True, f"W {move} repeats a position with a pass since"
            line.append((key, move == "pass"))
            if g.is_over:
                break
