"""Matches between GTP engines: ``tengen match``.

Tengen is the referee: every move is checked against ``go_engine`` before it is
relayed, so an illegal move, a move over the time limit, a crash or a garbled
answer loses the game (a forfeit) instead of corrupting it, and a ko cycle
under simple ko (``Game.cycled``) ends it without a result. Games alternate
colours, run several at a time (each with fresh engine processes), and each
finished game is written atomically as ``game-NNNN.sgf`` plus ``game-NNNN.json``,
so a rerun of the same command skips the games already played. With openings
(the first moves of other games, ``read_openings``) each pair of games starts
from the next one, each engine taking Black once: the games differ while both
engines play their best moves.

An engine is a command line; ``TengenCommand`` makes Tengen's own (``tengen
gtp`` on a model, e.g. the network under test in the loop's GNU Go matches)
from its options. Its own process keeps each engine's crashes, memory and
timing apart from the referee's and from the other engine's.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Sequence

from tqdm import tqdm

from go_engine import Game, IllegalMove, Outcome, read_sgf_inputs, write_sgf
from go_engine.atomic import atomic_write_bytes, folder_lock
from go_engine.game import CYCLE_REPEATS, NO_RESULT
from go_engine.gtp_client import GtpClient, GtpClientError, GtpCommandError, GtpEngineDied, GtpTimeout, Limit
from go_engine.stats import score_of, wilson


@dataclass(frozen=True)
class TengenCommand:
    """``tengen gtp`` with these options, as the command line of a match's engine."""

    model: str
    visits: int
    size: int
    komi: float
    rules: str
    resign_threshold: float
    threads: int | None = 1  # torch threads: a match runs several engines at once
    random_moves: int = 0

    def argv(self) -> list[str]:
        """The command line: each field given is the ``tengen gtp`` option of its name."""
        argv = [sys.executable, "-m", "tengen_cli", "gtp"]
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                argv += [f"--{f.name.replace('_', '-')}", f"{value:g}" if isinstance(value, float) else str(value)]
        return argv

    def command(self) -> str:
        """The command line as one string, for ``MatchConfig.engines``."""
        return shlex.join(self.argv())


Opening = tuple[tuple[str, str], ...]  # the first moves of a game as (colour, vertex)


@dataclass
class MatchConfig:
    engines: tuple[str, str]
    names: tuple[str, str] = ("A", "B")
    games: int = 2
    size: int = 19
    komi: float = 7.5
    rules: str = "chinese"
    limit: Limit = field(default_factory=Limit)
    max_moves: int | None = None  # default: 3 * size * size; then the position is scored as it stands
    scorer: str = "tromp-taylor"  # or a GTP engine command whose final_score decides
    parallel: int = 1
    out: str = "match"
    openings: tuple[Opening, ...] = ()  # games 2k and 2k + 1 start from openings[k % len(openings)]

    def opening(self, index: int) -> Opening:
        """The moves game ``index`` starts from: the same for each pair of games, whose colours swap."""
        return self.openings[(index // 2) % len(self.openings)] if self.openings else ()


def read_openings(paths: Sequence[str], size: int, moves: int, count: int | None = None) -> tuple[Opening, ...]:
    """The distinct first ``moves`` moves, in file order, of the games of ``size`` in the SGF files, folders and
    archives ``paths`` that have that many moves, none a pass, no stones set up, and replay legally; the first
    ``count`` of them (default: all)."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise ValueError(f"openings: no such file or folder: {', '.join(missing)}")
    seen: dict[Opening, None] = {}
    for _source, item in read_sgf_inputs([str(p) for p in paths]):
        if isinstance(item, Exception) or item.size != size or item.setup or len(item.moves) < moves:
            continue
        first = tuple((c, v) for c, v in item.moves[:moves])
        if first in seen or any(v == "pass" for _, v in first):
            continue
        game = Game(size)
        try:
            for c, v in first:
                game.play(v, c)
        except (IllegalMove, ValueError):
            continue
        seen[first] = None
        if len(seen) == count:
            break
    if not seen:
        raise ValueError(f"no game of size {size} with {moves} opening moves (no pass, no setup) in "
                         f"{', '.join(map(str, paths))}")
    return tuple(seen)


@dataclass
class GameResult:
    """One finished game. ``winner`` is an engine name, or None for a draw or a void game."""

    index: int
    black: str
    white: str
    winner: str | None
    result: str  # SGF RE: B+R, W+3.5, B+T (time), W+F (forfeit), 0 (draw), Void
    reason: str  # resign, score, max-moves, time, illegal, error, cycle (no result: Void)
    detail: str
    moves: int
    score: float | None  # black minus white, komi included, by the scorer
    final_scores: dict[str, str]  # each engine's own final_score answer
    seconds: dict[str, list[float]]  # per move, per engine
    moves_digest: str = ""  # of the move sequence: games that repeat one another have the same


class EngineStartError(ValueError):
    """An engine of the match cannot start, or refuses the match's settings: no game can be played."""


def _start(command: str, log: Path) -> GtpClient:
    with log.open("a") as f:  # the engine's process holds its own copy of the file
        return GtpClient(command, stderr=f)


def _setup(e: GtpClient, cfg: MatchConfig) -> None:
    """The match's board, komi and clock, as every game starts."""
    for cmd in (f"boardsize {cfg.size}", "clear_board", f"komi {cfg.komi:g}"):
        e.send(cmd)
    if cfg.limit.seconds is not None and e.known("time_settings"):
        e.send(f"time_settings 0 {cfg.limit.seconds:g} 1")


def check_engines(cfg: MatchConfig) -> None:
    """Start each engine (and the scorer) once with the match's settings, before any game: one that cannot
    raises ``EngineStartError`` with the reason and the end of its stderr, instead of forfeiting every game."""
    logs = Path(cfg.out) / "logs"
    checks = [(name, command, True) for name, command in zip(cfg.names, cfg.engines, strict=False)]
    if cfg.scorer != "tromp-taylor":
        checks.append(("scorer", cfg.scorer, False))
    for name, command, full in checks:
        log = logs / f"start-{name}.log"
        log.unlink(missing_ok=True)
        try:
            with _start(command, log) as e:
                if full:
                    _setup(e, cfg)
                else:
                    e.send(f"boardsize {cfg.size}")
        except GtpClientError as err:
            text = log.read_text(errors="replace") if log.exists() else ""
            said = [l.strip() for l in text.splitlines() if l.strip()]
            tail = f"; its stderr ends: {said[-1][:300]}" if said else ""
            raise EngineStartError(f"engine {name} ({command!r}) cannot play this match: {err}{tail}") from None


def play_game(cfg: MatchConfig, index: int) -> GameResult:
    """Play game ``index`` (engine 0 takes Black in even games) and write its SGF and JSON."""
    out = Path(cfg.out)
    a_black = index % 2 == 0
    order = (0, 1) if a_black else (1, 0)
    names = {"B": cfg.names[order[0]], "W": cfg.names[order[1]]}
    game = Game(cfg.size, cfg.komi, cfg.rules)
    seconds: dict[str, list[float]] = {cfg.names[0]: [], cfg.names[1]: []}
    engines: dict[str, GtpClient] = {}
    max_moves = cfg.max_moves or 3 * cfg.size * cfg.size
    result = reason = detail = ""
    winner: str | None = None
    score: float | None = None
    final_scores: dict[str, str] = {}

    def forfeit(color: str, why: str, text: str) -> None:
        nonlocal result, reason, detail, winner
        other = "W" if color == "B" else "B"
        result, reason, detail = Outcome(other, "time" if why == "time" else "forfeit").result(), why, text
        winner = names[other]

    def tell(side: str, color: str, vertex: str, when: str) -> bool:
        """Relay ``color``'s move to ``side``'s engine; False, the game void or forfeit, when that fails."""
        nonlocal result, reason, detail, winner
        try:
            engines[side].send(f"play {color} {vertex}")
        except GtpCommandError as err:  # the referee found the move legal: the engine disagrees
            result, reason, winner = "Void", "error", None
            detail = f"{names[side]} refused {color} {vertex} {when}: {err}"
            return False
        except GtpClientError as err:
            forfeit(side, "error", f"{names[side]} {when}: {err}")
            return False
        return True

    try:
        for color, k in zip("BW", order, strict=False):
            try:
                engines[color] = _start(cfg.engines[k], out / "logs" / f"game-{index:04d}-{cfg.names[k]}.log")
                _setup(engines[color], cfg)
            except GtpClientError as err:
                forfeit(color, "error", f"{names[color]} failed to start or set up: {err}")
                raise
        for color, vertex in cfg.opening(index):  # both engines are told the opening; neither chooses it
            game.play(vertex, color)
            if not all(tell(side, color, vertex, "in the opening") for side in "BW"):
                break
        passes = 0
        while not result and passes < 2 and len(game.moves) < max_moves:
            color = game.to_play
            other = "W" if color == "B" else "B"
            t0 = time.monotonic()
            try:
                move = engines[color].send(f"genmove {color}", timeout=cfg.limit.timeout).strip()
            except GtpTimeout:
                forfeit(color, "time", f"{names[color]} took over {cfg.limit.timeout:g} s at move {len(game.moves) + 1}")
                break
            except GtpClientError as err:
                forfeit(color, "error", f"{names[color]} at move {len(game.moves) + 1}: {err}")
                break
            dt = time.monotonic() - t0
            seconds[names[color]].append(round(dt, 3))
            if move.lower() == "resign":
                result, reason, winner = Outcome(other, "resignation").result(), "resign", names[other]
                detail = f"{names[color]} resigned at move {len(game.moves) + 1}"
                break
            try:
                game.play(move.upper() if move.lower() != "pass" else "pass", color)
            except (IllegalMove, ValueError) as err:
                forfeit(color, "illegal", f"{names[color]} played {move!r} at move {len(game.moves) + 1}: {err}")
                break
            passes = passes + 1 if move.lower() == "pass" else 0
            if not tell(other, color, move, f"at move {len(game.moves)}"):
                break
            if game.cycled:  # simple ko let the engines go round a cycle: the rules give no result
                result, reason, winner = Outcome(None, NO_RESULT).result(), NO_RESULT, None
                detail = (f"no result: at move {len(game.moves)} the position had stood {CYCLE_REPEATS} times "
                          "with no pass between (a ko cycle)")
                break
        if not result:  # two passes or the move cap: count
            reason = "score" if passes >= 2 else "max-moves"
            for color in "BW":
                try:
                    final_scores[names[color]] = engines[color].send("final_score", timeout=cfg.limit.hard)
                except GtpClientError as err:
                    final_scores[names[color]] = f"? {err}"
            ended = "two passes" if passes >= 2 else f"{max_moves} moves"
            try:
                score = _score(cfg, game, out / "logs" / f"game-{index:04d}-scorer.log")
            except GtpClientError as err:
                result, winner, detail = "Void", None, f"{ended}; the scorer failed: {err}"
            else:
                result = Outcome.from_score(score).result()
                winner = None if score == 0 else names["B" if score > 0 else "W"]
                detail = f"{ended}; scored by {cfg.scorer}"
    except GtpClientError:
        pass
    finally:
        for e in engines.values():
            e.close()
    digest = hashlib.sha1(" ".join(f"{c}{v}" for c, v in game.moves).encode()).hexdigest()
    rec = GameResult(index, names["B"], names["W"], winner, result, reason, detail, len(game.moves), score,
                     final_scores, seconds, digest)
    sgf = write_sgf(game, result=result, black=names["B"], white=names["W"], name=f"game {index}",
                    comments={0: detail} if detail else None)
    atomic_write_bytes(out / f"game-{index:04d}.sgf", sgf.encode())
    atomic_write_bytes(out / f"game-{index:04d}.json", json.dumps(asdict(rec), indent=1).encode())
    return rec


def _score(cfg: MatchConfig, game: Game, log: Path) -> float:
    """Black minus white: Tromp-Taylor area, or the scorer engine's final_score after replaying the game."""
    if cfg.scorer == "tromp-taylor":
        return float(game.score())
    with _start(cfg.scorer, log) as s:
        for cmd in (f"boardsize {cfg.size}", "clear_board", f"komi {cfg.komi:g}"):
            s.send(cmd)
        for color, vertex in game.moves:
            s.send(f"play {color} {vertex}")
        text = s.send("final_score", timeout=cfg.limit.hard).strip().upper()
    if text in ("0", "DRAW", "JIGO"):
        return 0.0
    if len(text) < 3 or text[0] not in "BW" or text[1] != "+":
        raise GtpEngineDied(f"scorer answered final_score with {text!r}")
    value = float(text[2:])
    return value if text[0] == "B" else -value


def load_results(out: str | Path) -> dict[int, GameResult]:
    res = {}
    for f in sorted(Path(out).glob("game-*.json")):
        try:
            rec = GameResult(**json.loads(f.read_text()))
        except (ValueError, TypeError) as e:
            raise ValueError(f"{f}: not a game record of tengen match ({e})") from None
        res[rec.index] = rec
    return res


def run_match(cfg: MatchConfig, progress=print, bar: bool = False) -> dict[int, GameResult]:
    """Play the games not yet on disk under ``cfg.out``; return all of them by index. ``progress`` takes a
    line per game; ``bar``: a progress bar with the time left on stderr. Before the first game each engine
    is started once (``EngineStartError`` if one cannot play); a second match on the same folder at the
    same time is refused (``FolderInUse``)."""
    with folder_lock(cfg.out, "match"):
        return _run_match(cfg, progress, bar)


def _run_match(cfg: MatchConfig, progress, bar: bool) -> dict[int, GameResult]:
    out = Path(cfg.out)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    settings = out / "match.json"
    mine = {k: v for k, v in asdict(cfg).items() if k not in ("games", "parallel")}
    if settings.exists():
        saved = json.loads(settings.read_text())
        now = json.loads(json.dumps(mine))
        # more games read more openings from the same files: the ones played must still lead the list
        shared = min(len(saved.get("openings", [])), len(now["openings"]))
        diff = [k for k in mine if (saved.get(k) != now[k] if k != "openings"
                                    else saved.get(k, [])[:shared] != now[k][:shared]
                                    or bool(saved.get(k)) != bool(now[k]))]
        if diff:
            raise ValueError(f"{out} holds a match with other settings ({', '.join(diff)}); use another --out")
        if len(now["openings"]) > len(saved.get("openings", [])):
            atomic_write_bytes(settings, json.dumps(mine, indent=1).encode())
    else:
        atomic_write_bytes(settings, json.dumps(mine, indent=1).encode())
    done = load_results(out)
    todo = [i for i in range(cfg.games) if i not in done]
    if done:
        progress(f"resuming: {len(done)} games on disk, {len(todo)} to play")
    if todo:
        check_engines(cfg)
    with ThreadPoolExecutor(max_workers=max(1, cfg.parallel)) as pool, \
            tqdm(total=cfg.games, initial=cfg.games - len(todo), unit="game", desc="match", disable=not bar,
                 dynamic_ncols=True) as pb:
        for rec in pool.map(lambda i: play_game(cfg, i), todo):
            done[rec.index] = rec
            pb.update(1)
            progress(f"game {rec.index}: {rec.black} (B) vs {rec.white} (W): {rec.result} after {rec.moves} moves"
                     f" ({rec.reason}{': ' + rec.detail if rec.reason not in ('score', 'resign') else ''})")
    return done


def summary(cfg: MatchConfig, results: dict[int, GameResult]) -> str:
    """Wins of each engine with a 95% Wilson interval (a draw counts half), by colour, seconds per move."""
    games = [r for i, r in sorted(results.items()) if i < cfg.games]
    lines = [f"{len(games)} games, {cfg.size}x{cfg.size}, komi {cfg.komi:g}, rules {cfg.rules}"]
    counted = [r for r in games if r.result != "Void"]

    def tally(name: str, recs: list[GameResult]) -> str:
        wins = score_of(recs, name)
        lo, hi = wilson(wins, len(recs))
        rate = f"{wins / len(recs):.1%}" if recs else "n/a"
        return f"{wins:g} wins of {len(recs)} = {rate} [95% {lo:.1%}, {hi:.1%}]"

    for name in cfg.names:
        as_b = sum(1 for r in counted if r.winner == name and r.black == name)
        as_w = sum(1 for r in counted if r.winner == name and r.white == name)
        secs = [s for r in games for s in r.seconds.get(name, [])]
        pace = (f"{statistics.mean(secs):.2f} s/move (median {statistics.median(secs):.2f}, max {max(secs):.2f})"
                if secs else "no moves")
        lines.append(f"{name}: {tally(name, counted)}; {as_b} as Black, {as_w} as White; {pace}")
    reasons: dict[str, int] = {}
    for r in games:
        reasons[r.reason] = reasons.get(r.reason, 0) + 1
    lines.append("ended by: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    failed = sum(r.reason == "error" for r in counted)
    if failed:  # a crash forfeits the game, but says nothing about strength
        board = [r for r in counted if r.reason != "error"]
        lines.append(f"without the {failed} games an engine failed in: "
                     + "; ".join(f"{name} {tally(name, board)}" for name in cfg.names))
    digests = [r.moves_digest for r in games if r.moves_digest]
    repeats = len(digests) - len(set(digests))
    if repeats:  # deterministic engines replay the same game: fewer independent games than counted
        lines.append(f"repeated games: {repeats} of {len(games)} replay an earlier game move for move, "
                     f"{len(games) - repeats} distinct (vary the openings: tengen match --openings, tengen gtp "
                     "--random-moves N)")
    why = {"error": "an engine refused a legal move", NO_RESULT: "no result: a ko cycle"}
    voids: dict[str, int] = {}
    for r in games:
        if r.result == "Void":
            voids[r.reason] = voids.get(r.reason, 0) + 1
    if voids:
        lines.append("void, not counted: " + ", ".join(f"{n} ({why.get(k, k)})" for k, n in sorted(voids.items())))
    return "\n".join(lines)
