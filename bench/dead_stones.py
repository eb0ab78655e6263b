"""Dead stones at the end of finished games: Tengen's verdicts against GNU Go's ``final_status_list dead``.

Games: ``--kgs N`` counted 19x19 games of ``kgs-6d`` (a result by points, at least 100 moves) and ``--ogs N``
9x9 games of ``ogs-9x9`` that ended by two passes and were counted, both from /work/shared/data, the first
that qualify in file order; ``--records`` adds every game ended by two passes in the SGF files and folders
given (Tengen's own, e.g. ``tengen match`` folders). For each final position GNU Go (``/usr/games/gnugo --mode gtp``) reads the record
(``loadsgf`` of the replayed game written to a temporary file) and names its dead stones. Tengen judges the
same position as ``tengen gtp`` does:

- ``net-V``: the network's ownership through a search of V visits (``tengen gtp --dead-stones network``,
  ``EngineState.final_ownership``: play resumed, a pass kept out at the root; V = 1 is the network's own
  answer for the position);
- ``playouts``: random playouts (``go_engine.deadstones``, ``tengen gtp``'s default and ``--model none``'s);
- ``playouts-no-seki-check``: the same playouts' verdict without keeping chains in seki alive (the baseline).

Per board size and method it reports: ``stones``, the share of the stones whose status (dead or alive) is
GNU Go's; ``recall``, the share of GNU Go's dead stones Tengen calls dead, and ``precision``, the share of
Tengen's dead stones GNU Go calls dead; ``winner``, the share of games whose winner, counted under the
game's rules with Tengen's dead stones removed, is the one counted with GNU Go's; ``record``, the share
whose winner is the record's; ``s``, seconds per position. One JSON line per source of games, size and method.

Usage: PYTHONPATH=. python bench/dead_stones.py [--kgs 30] [--ogs 60] [--records DIR ...] [--visits 1 50 200]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from go_engine import deadstones
from go_engine.coords import COLUMNS
from go_engine.game import Game
from go_engine.gtp_client import GtpClient
from go_engine.sgf import read_sgf_inputs, write_sgf

DATA = Path("/work/shared/data")
GNUGO = "/usr/games/gnugo --mode gtp"


@dataclass
class Tally:
    """Agreement figures of one method on one board size."""

    games: int = 0
    stones: int = 0
    same: int = 0
    gnugo_dead: int = 0
    found: int = 0
    called_dead: int = 0
    right_dead: int = 0
    same_winner: int = 0
    record_winner: int = 0
    seconds: float = 0.0

    def add(self, game: Game, mine: set[str], theirs: set[str], record: str, seconds: float) -> None:
        stones = {f"{COLUMNS[c]}{r + 1}" for r in range(game.size) for c in range(game.size) if game.board[r, c]}
        self.games += 1
        self.stones += len(stones)
        self.same += sum((v in mine) == (v in theirs) for v in stones)
        self.gnugo_dead += len(theirs)
        self.found += len(theirs & mine)
        self.called_dead += len(mine)
        self.right_dead += len(theirs & mine)
        winner = _winner(game, mine)
        self.same_winner += winner == _winner(game, theirs)
        self.record_winner += winner == record
        self.seconds += seconds

    def summary(self) -> dict:
        def share(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {"games": self.games, "stones": share(self.same, self.stones),
                "recall": share(self.found, self.gnugo_dead), "precision": share(self.right_dead, self.called_dead),
                "winner": share(self.same_winner, self.games), "record": share(self.record_winner, self.games),
                "s": round(self.seconds / max(1, self.games), 3)}


def _winner(game: Game, dead: set[str]) -> str:
    score = game.final_score(sorted(dead))
    return "B" if score > 0 else "W" if score < 0 else "0"


def finished_games(kind: str, n: int, records: Sequence[str] = ()):
    """(name, record, final position) of the first ``n`` games of ``kind`` (kgs, ogs, or records: the SGF
    files and folders ``records``, games ended by two passes and counted) that qualify."""
    if kind == "records":
        paths = [str(p) for p in records]
    else:
        paths = [str(p) for p in (sorted((DATA / "kgs-6d").glob("*.tar.gz")) if kind == "kgs"
                                  else sorted((DATA / "ogs-9x9").glob("*.sgf")))]
    found = 0
    for source, item in read_sgf_inputs(paths):
        if found >= n:
            return
        if isinstance(item, Exception):
            continue
        r = item.result
        if r is None or r.reason != "score" or r.winner not in ("B", "W"):
            continue
        if kind == "kgs" and (item.size != 19 or len(item.moves) < 100):
            continue
        if kind == "ogs" and item.size != 9:
            continue
        if kind != "kgs" and [v for _, v in item.moves[-2:]] != ["pass", "pass"]:
            continue
        try:
            game = item.replay()
        except ValueError:
            continue
        found += 1
        yield f"{Path(str(source)).name}#{item.number}", item, game


def by_ownership(game: Game, own) -> list[str]:
    """The stones of the chains the opponent owns on average, seki or not: the baseline that
    ``deadstones.dead_stones`` was before it kept chains in seki alive."""
    return [f"{COLUMNS[c]}{r + 1}" for chain in deadstones.chains(game.board)
            if float(sum(own[p] for p in chain)) * game.board[chain[0]] < 0 for r, c in chain]


def gnugo_dead(gnugo: GtpClient, game: Game, folder: str) -> set[str]:
    path = os.path.join(folder, "game.sgf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(write_sgf(game, result=""))
    gnugo.send(f"loadsgf {path}", timeout=60)
    return set(gnugo.send("final_status_list dead", timeout=300).upper().split())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kgs", type=int, default=30, help="counted 19x19 games of kgs-6d")
    ap.add_argument("--ogs", type=int, default=60, help="9x9 games of ogs-9x9 ended by two passes")
    ap.add_argument("--records", nargs="*", default=[],
                    help="SGF files or folders of other finished games (e.g. tengen match folders): all that qualify")
    ap.add_argument("--visits", type=int, nargs="*", default=[1, 50, 200],
                    help="searches for the network's ownership (none: playouts only)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--model", default=None, help="network (default: the bundled one)")
    args = ap.parse_args()

    import torch

    from gtp.engine import build_engine

    torch.set_num_threads(args.threads)
    tallies: dict[tuple[str, int, str], Tally] = {}
    with open(os.devnull, "w") as quiet, tempfile.TemporaryDirectory() as folder, GtpClient(GNUGO) as gnugo:
        engine = build_engine(args.model, log=quiet)
        for kind, n in (("kgs", args.kgs), ("ogs", args.ogs), ("records", 10**9 if args.records else 0)):
            for name, record, game in finished_games(kind, n, args.records):
                t0 = time.perf_counter()
                theirs = gnugo_dead(gnugo, game, folder)
                gnugo_s = time.perf_counter() - t0
                verdicts = {}
                for v in args.visits:
                    t0 = time.perf_counter()
                    own = engine.final_ownership(game, visits=v, source="network")
                    verdicts[f"net-{v}"] = deadstones.dead_stones(game, own), time.perf_counter() - t0
                t0 = time.perf_counter()
                verdicts["playouts"] = deadstones.dead_stones(game), time.perf_counter() - t0
                verdicts["playouts-no-seki-check"] = by_ownership(game, deadstones.playout_ownership(game)), 0.0
                verdicts["gnugo"] = sorted(theirs), gnugo_s
                for method, (dead, secs) in verdicts.items():
                    tallies.setdefault((kind, game.size, method), Tally()).add(game, set(dead), theirs,
                                                                         record.result.winner, secs)
                print(json.dumps({"game": name, "size": game.size, "gnugo_dead": len(theirs),
                                  **{m: len(d) for m, (d, _) in verdicts.items() if m != "gnugo"}}), flush=True)
    for (kind, size, method), t in sorted(tallies.items()):
        print(json.dumps({"bench": "dead_stones", "games_from": kind, "size": size, "method": method, **t.summary()}),
              flush=True)


if __name__ == "__main__":
    main()
