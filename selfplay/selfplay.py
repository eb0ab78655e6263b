"""Self-play: many games at once in one process, sharing each network call (``tengen selfplay``).

Each move gets either a full search (``full_visits``, root noise, its visit
distribution becomes a policy target) or, with probability ``1 - full_fraction``,
a fast one (``fast_visits``, no noise, no policy target): KataGo's playout cap
randomization. A player resigns after ``resign_moves`` consecutive moves with
its win rate below ``resign_threshold``, except in a ``no_resign_fraction`` of
games, which are played out to measure how often resigning would have been
wrong. Every game draws its komi around ``komi`` (``komi_stdev``, as KataGo
varies komi), so that the network learns to read it. A game that ends on the
board (two passes, or the move cap) is scored with its dead stones settled by
the playout estimate (``go_engine.deadstones``), which also gives its
ownership target. Every finished game is written at once, atomically, three
times over: ``NAME.sgf`` (visits and value in each move's comment), ``NAME.npz``
(a one-game training shard with the visit distributions, the outcome, the
margin and the settled ownership) and ``NAME.json`` (its statistics). A killed
run loses only the games in progress.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import multiprocessing.connection
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from go_engine import Game, write_sgf
from go_engine.atomic import atomic_write_bytes, folder_lock
from go_engine.coords import move_index, parse_vertex
from go_engine.deadstones import settle
from go_engine.game import MAX_POINTS, Outcome
from go_engine.stats import wilson
from policy.data.shards import GameRecord, write_shard

from .player import Player, PlayerConfig
from .search import run_many


@dataclass
class SelfPlayConfig:
    size: int = 9
    komi: float = 7.0  # the mean komi; each game draws its own around it
    komi_stdev: float | None = None  # default: size / 3 points; 0 plays every game at ``komi``
    rules: str = "chinese"
    full_visits: int = 200
    fast_visits: int = 40
    full_fraction: float = 0.25
    parallel: int = 16  # games in progress at once, evaluated together
    temperature: float = 1.0  # at the first move, decaying towards temperature_end
    temperature_end: float = 0.2
    temperature_halflife: float | None = None  # default: size * size / 12 moves
    resign_threshold: float = 0.05  # win rate
    resign_moves: int = PlayerConfig.resign_moves  # consecutive moves below the threshold
    no_resign_fraction: float = 0.1
    max_moves: int | None = None  # default: 3 * size * size, then scored as it stands
    noise_alpha: float | None = None  # default: 0.03 * 361 / size^2
    batch_size: int = 8  # leaves per tree per network call

    def game_komi(self, rng: np.random.Generator) -> float:
        """A game's komi: normal around ``komi``, in half points, within ``MAX_POINTS``."""
        stdev = self.size / 3 if self.komi_stdev is None else self.komi_stdev
        if stdev <= 0:
            return self.komi
        return float(np.clip(np.round(2.0 * (self.komi + rng.normal(0.0, stdev))) / 2.0, -MAX_POINTS, MAX_POINTS))

    def player(self) -> PlayerConfig:
        """How the players of these games choose moves and resign."""
        return PlayerConfig(temperature=self.temperature, temperature_end=self.temperature_end,
                            temperature_halflife=self.temperature_halflife or self.size * self.size / 12,
                            resign_threshold=self.resign_threshold, resign_moves=self.resign_moves)


@dataclass
class GameStats:
    name: str
    moves: int
    result: str
    winner: str | None
    score: float | None
    full_moves: int
    resign_allowed: bool
    would_resign: str | None  # in a game played out: the first player whose win rate called for resigning
    seconds: float


class _Slot:
    """A game in progress: its player (for both colours), and the targets and comments of its moves."""

    def __init__(self, cfg: SelfPlayConfig, seed: int, rng: np.random.Generator) -> None:
        self.player = Player(cfg.player(), seed=seed)
        self.player.new_game(Game(cfg.size, cfg.game_komi(rng), cfg.rules))
        self.resign_allowed = bool(rng.random() >= cfg.no_resign_fraction)
        self.would_resign: str | None = None
        self.moves: list[tuple[int, int]] = []
        self.targets: list = []
        self.comments: dict[int, str] = {}
        self.start = time.monotonic()
        self.full = False


def play_games(evaluator, cfg: SelfPlayConfig, games: int, out: str | Path, prefix: str, seed: int = 0,
               first: int = 0, progress=None) -> list[GameStats]:
    """Play ``games`` games, writing each as ``out/{prefix}-{n:06d}.{sgf,npz,json}`` (n from ``first``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    size = cfg.size
    noise = cfg.noise_alpha or 0.03 * 361 / size ** 2
    max_moves = cfg.max_moves or 3 * size * size
    slots: list[_Slot] = []
    started = 0
    stats: list[GameStats] = []
    while len(stats) < games:
        while len(slots) < cfg.parallel and started < games:
            slots.append(_Slot(cfg, int(rng.integers(1 << 31)), rng))
            started += 1
        for s in slots:  # decide each search's kind before it starts: noise goes with full searches
            s.full = bool(rng.random() < cfg.full_fraction)
            s.player.search.set_root_noise(noise if s.full else None)
        for kind, visits in ((True, cfg.full_visits), (False, cfg.fast_visits)):
            group = [s.player.search for s in slots if s.full == kind]
            if group:
                run_many(group, visits, evaluator, batch_size=cfg.batch_size)
        finished = []
        for s in slots:
            p = s.player
            g, sr = p.game, p.search
            color = g.to_play
            n = len(g.moves)
            if s.full:
                dist = sr.policy_target()
                nz = np.flatnonzero(dist)
                s.targets.append((nz.astype(np.int16), dist[nz].astype(np.float32)))
            else:
                s.targets.append(None)
            if p.wants_to_resign():
                if s.resign_allowed:
                    s.targets.pop()
                    g.resign(color)
                    finished.append(s)
                    continue
                s.would_resign = s.would_resign or color
            move = p.choose()
            top = sorted(sr.analysis(5), key=lambda a: -a["visits"])
            s.comments[n + 1] = (f"{'full' if s.full else 'fast'} search, {sr.root_visits} visits, "
                                 f"win rate {p.winrate():.3f} for {color}; "
                                 + " ".join(f"{a['move']}:{a['visits']}" for a in top))
            s.moves.append((1 if color == "B" else 2, move_index(parse_vertex(move, size), size)))
            sr.set_root_noise(None)  # the next search's kind decides its noise
            p.play(move)
            if g.finished or len(g.moves) >= max_moves:
                finished.append(s)
        for s in finished:
            slots.remove(s)
            rec = _finish(s, cfg, out, f"{prefix}-{first + len(stats):06d}")
            stats.append(rec)
            if progress:
                progress(rec)
    return stats


def settled_outcome(g: Game, seed: int) -> tuple[Outcome, np.ndarray | None]:
    """The outcome of a finished self-play game and its ownership target: a resignation or a ko cycle (no
    result: a draw's value target, no score or ownership) as it is; a game ended on the board scored with its
    dead stones removed, with their owners."""
    if g.resigned or g.cycled:
        return g.outcome(), None
    settled = settle(g, seed=seed)
    return Outcome.from_score(float(g.final_score(settled.dead))), settled.ownership


def _finish(s: _Slot, cfg: SelfPlayConfig, out: Path, name: str) -> GameStats:
    g = s.player.game
    key = int.from_bytes(hashlib.blake2b(np.array(s.moves, np.int16).tobytes() + name.encode(),
                                         digest_size=8).digest(), "little")
    outcome, owner = settled_outcome(g, key & 0xFFFF)
    result = outcome.result()
    margin = outcome.score
    rec = GameRecord(cfg.size, g.komi, cfg.rules, s.moves, winner={"B": 1, "W": -1, None: 0}[outcome.winner],
                     margin=margin if margin is not None else float("nan"), key=key, targets=s.targets,
                     owner=owner)
    full = sum(t is not None for t in s.targets)
    st = GameStats(name, len(s.moves), result, outcome.winner, margin, full, s.resign_allowed, s.would_resign,
                   round(time.monotonic() - s.start, 2))
    comments = dict(s.comments)
    comments[0] = (f"Tengen self-play: {cfg.full_visits}/{cfg.fast_visits} visits (full/fast), "
                   f"{full} full searches; resignation {'on' if s.resign_allowed else 'off'}"
                   + (f"; {s.would_resign} would have resigned" if s.would_resign else ""))
    sgf = write_sgf(g, result=result, black="Tengen", white="Tengen", comments=comments)
    # the statistics last: a game counts as done once its .json exists
    atomic_write_bytes(out / f"{name}.sgf", sgf.encode())
    write_shard(out / f"{name}.npz", [rec])
    atomic_write_bytes(out / f"{name}.json", json.dumps(asdict(st)).encode())
    return st


def load_records(out: str | Path, pattern: str, cls, what: str) -> list:
    """The ``cls`` records in the JSON files ``out/pattern``, in name order; a bad one names its file."""
    records = []
    for f in sorted(Path(out).glob(pattern)):
        try:
            records.append(cls(**json.loads(f.read_text())))
        except (ValueError, TypeError) as e:
            raise ValueError(f"{f}: not {what} ({e})") from None
    return records


GAME_STATS = "*-[0-9][0-9][0-9][0-9][0-9][0-9].json"  # a finished game's statistics (not summary.json)


def load_stats(out: str | Path) -> list[GameStats]:
    """The statistics of the finished games in ``out`` (``NAME-NNNNNN.json``)."""
    return load_records(out, GAME_STATS, GameStats, "a self-play game record")


def summarize(stats: list[GameStats]) -> dict:
    """Games, results by colour, moves, and the resignation false-positive rate with its 95% interval."""
    played_out = [s for s in stats if not s.resign_allowed and s.would_resign]
    wrong = sum(1 for s in played_out if s.winner == s.would_resign)
    lo, hi = wilson(wrong, len(played_out))
    n = len(stats)
    return {"games": n, "black_wins": sum(s.winner == "B" for s in stats),
            "white_wins": sum(s.winner == "W" for s in stats), "draws": sum(s.winner is None for s in stats),
            "resigned": sum(s.result.endswith("+R") for s in stats),
            "mean_moves": round(float(np.mean([s.moves for s in stats])), 1) if n else 0.0,
            "full_searches": sum(s.full_moves for s in stats),
            "resign_checks": len(played_out), "resign_false_positives": wrong,
            "resign_false_positive_rate": (wrong / len(played_out)) if played_out else None,
            "resign_false_positive_95": [round(lo, 3), round(hi, 3)] if played_out else None,
            "seconds_per_game": round(float(np.mean([s.seconds for s in stats])), 2) if n else 0.0}


def exit_with_parent() -> None:
    """End this worker process as soon as its parent ends, even by kill -9: an orphan would go on playing
    games that a rerun plays again."""
    parent = mp.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent's end of the pipe closes
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def _worker(model: str | None, device: str, cfg: SelfPlayConfig, games: int, out: str, prefix: str, seed: int,
            first: int, threads: int | None) -> None:
    exit_with_parent()
    import torch

    if threads:
        torch.set_num_threads(threads)
    play_games(make_evaluator(model, device), cfg, games, out, prefix, seed=seed, first=first)


def make_evaluator(model: str | None, device: str = "cpu"):
    """The network of ``model`` (default: the bundled one), or uniform priors without one."""
    from .evaluators import load_evaluator

    return load_evaluator(model, device)


def run_selfplay(model: str | None, cfg: SelfPlayConfig, games: int, out: str | Path, workers: int = 1,
                 device: str = "cpu", seed: int = 0, bar: bool = False, desc: str = "self-play") -> dict:
    """Play until ``out`` holds ``games`` finished games (a rerun resumes), with ``workers`` processes that
    end with this one; ``bar``: a progress bar with the time left on stderr. A second run on the same
    folder at the same time is refused (``FolderInUse``)."""
    out = Path(out)
    with folder_lock(out, "self-play run"):
        done = load_stats(out)
        todo = games - len(done)
        if todo <= 0:
            return summarize(done)
        shares = [todo // workers + (1 if w < todo % workers else 0) for w in range(workers)]
        run_id = uuid.uuid4().hex[:10]  # names of this run's games never collide with earlier runs' games
        with tqdm(total=games, initial=len(done), unit="game", desc=desc, disable=not bar, dynamic_ncols=True) as pb:
            if workers == 1:
                def played(s: GameStats) -> None:
                    pb.set_postfix_str(f"{s.result} in {s.moves} moves", refresh=False)
                    pb.update(1)

                play_games(make_evaluator(model, device), cfg, todo, out, f"sp-{run_id}-w0", seed=seed,
                           progress=played)
            else:
                _run_workers(model, device, cfg, shares, out, run_id, seed, lambda: pb.update(
                    len(list(out.glob(GAME_STATS))) - pb.n))
        return summarize(load_stats(out))


def _run_workers(model: str | None, device: str, cfg: SelfPlayConfig, shares: list[int], out: Path, run_id: str,
                 seed: int, tick) -> None:
    """Play ``shares`` games in as many processes, calling ``tick`` every second until they end."""
    ctx = mp.get_context("spawn")
    threads = max(1, (mp.cpu_count() or 1) // len(shares))
    procs = [ctx.Process(target=_worker, args=(model, device, cfg, share, str(out), f"sp-{run_id}-w{w}",
                                               seed * 1000 + w, 0, threads), daemon=True)
             for w, share in enumerate(shares) if share > 0]
    for p in procs:
        p.start()
    try:
        while any(p.is_alive() for p in procs):
            mp.connection.wait([p.sentinel for p in procs if p.is_alive()], timeout=1.0)
            tick()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
    failed = [p.exitcode for p in procs if p.exitcode]
    if failed:
        raise RuntimeError(f"{len(failed)} self-play worker(s) failed (exit codes {failed})")
