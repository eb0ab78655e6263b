"""``tengen data build``: SGF records in, training shards out.

Inputs (files, folders, archives: whatever ``go_engine.sgf.read_sgf_inputs``
reads) are listed with ``list_sgf_sources`` and cut into chunks of about
``CHUNK_BYTES`` of SGF. Worker processes read each chunk with
``read_sgf_sources`` (the reader's size cap included) and turn it into one
train and one validation shard, written atomically, then a small JSON record
of the chunk; a chunk with a record is done, so a killed build resumes where
it stopped. A final pass drops games seen earlier in another chunk (the same
moves) and writes ``summary.json``. A game that cannot be used is rejected
with a reason counted in the summary, and the build goes on.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from numba import njit

from go_engine import kernels as K
from go_engine.atomic import atomic_write_bytes
from go_engine.coords import MAX_SIZE, MIN_SIZE, PASS, vertex_table
from go_engine.deadstones import settle
from go_engine.game import MAX_POINTS, Game
from go_engine.sgf import (
    DEFAULT_MAX_BYTES,
    SgfError,
    SgfGame,
    SgfSource,
    iter_sgf,
    list_sgf_sources,
    parse_komi,
    read_sgf_sources,
)
from policy.data.shards import WINNER_UNKNOWN, GameRecord, write_shard

CHUNK_BYTES = 2 << 20
OWNER_PLAYOUTS = 64  # random playouts that settle the dead stones of a finished game
OWNER_SCORE_TOLERANCE = 3.0  # points a settlement's score may differ from the record's
MAX_EXAMPLES = 20  # rejected games quoted per chunk, with file, game and move
MAX_HANDICAP = 127  # the shards store the handicap in one signed byte
_RANK = re.compile(r"^\s*(\d+)\s*([kdpKDP])")


@dataclass
class BuildOptions:
    """What ``tengen data build`` keeps; every field is part of the build's identity."""

    size: int | None = 19  # None: every size (each shard holds one size)
    min_rank: str | None = None  # e.g. "5d": both players at least this strong
    no_handicap: bool = False
    min_moves: int = 0
    result_known: bool = False
    val_fraction: float = 0.02

    def __post_init__(self) -> None:
        if self.size is not None and not MIN_SIZE <= self.size <= MAX_SIZE:
            raise ValueError(f"size {self.size}: board sizes are from {MIN_SIZE} to {MAX_SIZE}")
        if self.min_rank is not None and rank_value(self.min_rank) is None:
            raise ValueError(f"min rank {self.min_rank!r} is not a rank such as 3k, 5d or 1p")
        if self.min_moves < 0:
            raise ValueError(f"min moves {self.min_moves} is negative")
        if not 0.0 <= self.val_fraction <= 1.0:
            raise ValueError(f"validation fraction {self.val_fraction} is not from 0 to 1")


def rank_value(rank: str | None) -> float | None:
    """Kyu/dan/pro ranks on one scale: 1k = 0, 1d = 1, 9d = 9, professionals above 9d."""
    if not rank:
        return None
    m = _RANK.match(rank)
    if not m:
        return None
    n, kind = int(m.group(1)), m.group(2).lower()
    return 1 - n if kind == "k" else (n if kind == "d" else 9 + n)


# --------------------------------------------------------------------------- chunks of input
def make_chunks(sources: list[SgfSource]) -> list[list[SgfSource]]:
    """The sources in order, cut after every ``CHUNK_BYTES`` of SGF: one chunk per worker task."""
    chunks, cur, size = [], [], 0
    for s in sources:
        cur.append(s)
        size += s.size
        if size >= CHUNK_BYTES:
            chunks.append(cur)
            cur, size = [], 0
    if cur:
        chunks.append(cur)
    return chunks


# --------------------------------------------------------------------------- one game
@njit(cache=True)
def k_check_moves(S, meta, hist, undo, capbuf, points, colors):
    """Play ``points``/``colors`` with full legality; the index of the first illegal move and its code."""
    for i in range(points.shape[0]):
        code = K.k_play(S, meta, hist, undo, capbuf, points[i], colors[i])
        if code > K.OK_SUICIDE:
            return i, code
    return -1, 0


_REASON_WORDS = {K.OCCUPIED: "occupied point", K.KO: "ko retaken", K.SUICIDE: "suicide", K.SUPERKO: "superko"}


def to_record(g: SgfGame, opts: BuildOptions) -> tuple[GameRecord | None, str | None]:
    """The shard record of a parsed game, or ``(None, reason)`` when a value, a filter or the rules
    reject it. The reason's kind (see ``rejection_kind``) is what the summary counts."""
    bad = out_of_range(g)
    if bad is not None:
        return None, bad
    size = g.size
    if opts.size is not None and size != opts.size:
        return None, "board size"
    if opts.no_handicap and (g.handicap >= 2 or (g.setup.black and not g.setup.white)):
        return None, "handicap"
    if opts.min_rank is not None:
        need = rank_value(opts.min_rank)
        rb, rw = rank_value(g.black_rank), rank_value(g.white_rank)
        if rb is None or rw is None:
            return None, "rank unknown"
        if rb < need or rw < need:
            return None, "rank below minimum"
    if len(g.moves) < max(1, opts.min_moves):
        return None, "too short"
    res = g.result
    winner = WINNER_UNKNOWN
    margin = float("nan")
    if res is not None:
        if res.reason == "draw":
            winner, margin = 0, 0.0
        elif res.winner in ("B", "W"):
            winner = 1 if res.winner == "B" else -1
            if res.reason == "score" and res.margin is not None:
                margin = winner * float(res.margin)
    if opts.result_known and winner == WINNER_UNKNOWN:
        return None, "result unknown"
    if g.later_setups:
        return None, "setup during play"
    table = vertex_table(size)
    n = size + 2
    try:
        game = Game(size, g.komi, g.rules)
        s = g.setup
        if s:
            game.setup(black=s.black, white=s.white, empty=s.empty, to_play=g.to_play)
    except ValueError:
        return None, "illegal setup"
    b0 = game.board  # the position before the first move: whatever the setup left
    rr, cc = np.nonzero(b0)
    setup = [(1 if b0[r, c] == 1 else 2, int(r * size + c)) for r, c in zip(rr, cc, strict=False)]
    points = np.array([table[v] for _, v in g.moves], dtype=np.int64)
    colors = np.array([1 if c == "B" else 2 for c, _ in g.moves], dtype=np.int64)
    game.reserve(len(points))
    bad, code = k_check_moves(game._S, game._meta, game._hist, game._undo, game._capbuf, points, colors)
    if bad >= 0:
        c, v = g.moves[bad]
        return None, f"illegal move ({_REASON_WORDS.get(int(code), 'illegal')}) at move {bad + 1}, {c} {v}"
    flat = np.where(points == PASS, size * size, (points // n - 1) * size + points % n - 1)
    moves = list(zip(colors.tolist(), flat.tolist(), strict=False))
    key_src = np.array([size] + [c * 1000 + p for c, p in setup] + [-1] + [c * 1000 + p for c, p in moves], np.int32)
    key = int.from_bytes(hashlib.blake2b(key_src.tobytes(), digest_size=8).digest(), "little")
    # ownership target: only where the game ended on the board (two passes, or a counted score),
    # with the dead stones that human records leave standing settled by the dead-stone estimate; a
    # settlement whose score disagrees with the recorded one (open borders, a wrong guess) is dropped
    owner = None
    if game.passes >= 2 or (res is not None and res.reason == "score"):
        settled = settle(game, playouts=OWNER_PLAYOUTS, seed=key & 0xFFFF)
        if not np.isfinite(margin) or abs(game.final_score(settled.dead) - margin) <= OWNER_SCORE_TOLERANCE:
            owner = settled.ownership
    rec = GameRecord(size=size, komi=float(g.komi), rules=g.rules, moves=moves, setup=setup, winner=winner,
                     margin=margin, handicap=int(g.handicap), key=key, owner=owner)
    return rec, None


def out_of_range(g: SgfGame) -> str | None:
    """Why a value of ``g`` cannot be a real game's (nor fit the shards), or ``None``: a handicap
    beyond ``MAX_HANDICAP`` or the board's points, a komi that is not a number (the reader would
    use 0) or beyond ``MAX_POINTS``, a score margin beyond ``MAX_POINTS``. (The reader already
    refuses board sizes outside ``MIN_SIZE..MAX_SIZE``.)"""
    most = min(MAX_HANDICAP, g.size * g.size - 1)
    if not 0 <= g.handicap <= most:
        return f"handicap out of range: HA[{g.handicap}] (at most {most} on {g.size}x{g.size})"
    if g.komi_raw is not None and parse_komi(g.komi_raw) is None:
        return f"komi unreadable: KM[{_clip(g.komi_raw)}] is not a finite number"
    if not abs(g.komi) <= MAX_POINTS:
        return f"komi out of range: KM[{_clip(g.komi_raw)}] (at most {MAX_POINTS:g} points either way)"
    res = g.result
    if res is not None and res.margin is not None and not abs(res.margin) <= MAX_POINTS:
        return f"result out of range: RE[{_clip(res.raw)}] (at most {MAX_POINTS:g} points)"
    return None


def _clip(raw: str | None, most: int = 24) -> str:
    raw = raw or ""
    return raw if len(raw) <= most else raw[:most] + "..."


def rejection_kind(reason: str) -> str:
    """What the summary counts of a rejection: its reason without the details (after ``": "`` or
    ``" at move "``), e.g. ``"illegal move (ko retaken)"``, ``"handicap out of range"``."""
    return re.split(r": | at move ", reason, maxsplit=1)[0]


def is_validation(key: int, fraction: float) -> bool:
    """The split by game: the same moves always land on the same side."""
    return (key % 1_000_003) < fraction * 1_000_003


# --------------------------------------------------------------------------- one chunk
def build_chunk(args: tuple[int, list[SgfSource], str, dict]) -> dict:
    """Read one chunk of sources, write its shards, then its record ``chunks/NNNNN.json`` (the mark
    of a chunk done). Files that cannot be read are listed by name in the record's ``unreadable``
    (the summary counts each once, however many chunks met it)."""
    index, sources, out, opts_d = args
    opts = BuildOptions(**opts_d)
    out_dir = Path(out)
    stats: Counter = Counter()
    rejected: Counter = Counter()
    sizes: Counter = Counter()
    unreadable: dict[str, str] = {}
    by_split: dict[str, dict[int, list[GameRecord]]] = {"train": {}, "val": {}}
    seen: set[int] = set()
    examples: list[str] = []
    for source, data in read_sgf_sources(sources, max_bytes=DEFAULT_MAX_BYTES):
        if isinstance(data, SgfError):
            unreadable.setdefault(source, str(data))
            continue
        stats["files"] += 1
        for item in iter_sgf(data, source):
            stats["games_read"] += 1
            if isinstance(item, SgfError):
                rejected["unreadable game"] += 1
                if len(examples) < MAX_EXAMPLES:
                    examples.append(str(item))
                continue
            sizes[item.size] += 1
            rec, why = to_record(item, opts)
            if rec is None:
                kind = rejection_kind(why)
                rejected[kind] += 1
                if kind != why and len(examples) < MAX_EXAMPLES:
                    examples.append(f"{item.source}: game {item.number}: {why}")
                continue
            if rec.key in seen:
                rejected["duplicate"] += 1
                continue
            seen.add(rec.key)
            split = "val" if is_validation(rec.key, opts.val_fraction) else "train"
            by_split[split].setdefault(rec.size, []).append(rec)
    shards = []
    for split, groups in by_split.items():
        for size, recs in sorted(groups.items()):
            name = f"{split}/{size}x{size}/part-{index:05d}.npz"
            write_shard(out_dir / name, recs)
            shards.append({"path": name, "split": split, "size": size, "games": len(recs),
                           "positions": sum(len(r.moves) for r in recs),
                           "keys": [format(r.key, "016x") for r in recs]})
    record = {"chunk": index, "files": stats["files"], "games_read": stats["games_read"],
              "sizes": {str(k): v for k, v in sorted(sizes.items())}, "rejected": dict(rejected),
              "unreadable": unreadable, "examples": examples, "shards": shards}
    atomic_write_bytes(out_dir / "chunks" / f"{index:05d}.json", json.dumps(record).encode())
    return record


# --------------------------------------------------------------------------- the whole build
def build(inputs: Sequence[str], out: str, opts: BuildOptions, workers: int | None = None,
          progress: bool = True) -> dict:
    """Build (or resume) the data set in ``out``; returns the summary written to ``summary.json``."""
    from tqdm import tqdm

    t0 = time.time()
    missing = [str(x) for x in inputs if not os.path.exists(x)]
    if missing:
        raise ValueError(f"no such file or folder: {', '.join(missing)}")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    identity = {"inputs": [str(Path(x).resolve()) for x in inputs], "options": asdict(opts), "chunk_bytes": CHUNK_BYTES}
    ident_path = out_dir / "build.json"
    if ident_path.exists():
        old = json.loads(ident_path.read_text())
        if old != identity:
            raise ValueError(f"{out} holds a build with other inputs or options ({old}); use another --out")
    else:
        atomic_write_bytes(ident_path, json.dumps(identity, indent=1).encode())
    sources: list[SgfSource] = []
    unreadable: dict[str, str] = {}  # archives that break off, by name: counted once with the chunks' ones
    for item in list_sgf_sources(inputs):
        if isinstance(item, SgfError):
            unreadable.setdefault(str(item.source), str(item))
        else:
            sources.append(item)
    chunks = make_chunks(sources)
    todo = [i for i in range(len(chunks)) if not (out_dir / "chunks" / f"{i:05d}.json").exists()]
    jobs = [(i, chunks[i], str(out_dir), asdict(opts)) for i in todo]
    workers = workers or os.cpu_count() or 1
    bar = tqdm(total=len(chunks), initial=len(chunks) - len(todo), unit="chunk", disable=not progress)
    games = 0
    if workers > 1 and len(jobs) > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            for rec in pool.imap_unordered(build_chunk, jobs):
                games += rec["games_read"]
                bar.update(1)
                bar.set_postfix(games=games)
    else:
        for job in jobs:
            games += build_chunk(job)["games_read"]
            bar.update(1)
            bar.set_postfix(games=games)
    bar.close()
    return finalize(out_dir, len(chunks), time.time() - t0, len(todo), unreadable)


def finalize(out_dir: Path, nchunks: int, seconds: float, built: int, unreadable: dict[str, str]) -> dict:
    """Drop games repeated across chunks, write ``dropped.json`` per split and ``summary.json``.
    ``unreadable``: the files the listing could not read, by name, as are the chunks' ones."""
    seen: set[str] = set()
    dropped: dict[str, dict[str, list[int]]] = {}
    rejected: Counter = Counter()
    sizes: Counter = Counter()
    unreadable = dict(unreadable)
    examples: list[str] = []
    files = games_read = 0
    used = {"train": 0, "val": 0}
    positions = {"train": 0, "val": 0}
    for i in range(nchunks):
        rec = json.loads((out_dir / "chunks" / f"{i:05d}.json").read_text())
        files += rec["files"]
        games_read += rec["games_read"]
        rejected.update(rec["rejected"])
        sizes.update({int(k): v for k, v in rec.get("sizes", {}).items()})
        for source, why in rec.get("unreadable", {}).items():
            unreadable.setdefault(source, why)
        examples += rec["examples"][: max(0, 50 - len(examples))]
        for sh in rec["shards"]:
            drop = []
            for j, k in enumerate(sh["keys"]):
                if k in seen:
                    drop.append(j)
                else:
                    seen.add(k)
            if drop:
                dropped.setdefault(str(Path(sh["path"]).parent), {})[Path(sh["path"]).name] = drop
                rejected["duplicate"] += len(drop)
            used[sh["split"]] += sh["games"] - len(drop)
            if drop:
                from policy.data.shards import read_shard
                s = read_shard(out_dir / sh["path"])
                lens = np.diff(s.game_offset)
                positions[sh["split"]] += int(sh["positions"] - lens[drop].sum())
            else:
                positions[sh["split"]] += sh["positions"]
    if unreadable:
        rejected["unreadable file"] += len(unreadable)
        examples = (list(unreadable.values()) + examples)[:50]
    for split_dir in {str(Path(p)) for p in _split_dirs(out_dir)}:
        rel = str(Path(split_dir).relative_to(out_dir))
        atomic_write_bytes(Path(split_dir) / "dropped.json", json.dumps(dropped.get(rel, {})).encode())
    size_bytes = sum(f.stat().st_size for f in out_dir.rglob("*.npz"))
    summary = {
        "files_read": files, "games_read": games_read, "games_used": used["train"] + used["val"],
        "games_read_by_size": {f"{k}x{k}": v for k, v in sorted(sizes.items())},
        "train_games": used["train"], "val_games": used["val"],
        "positions_written": positions["train"] + positions["val"],
        "train_positions": positions["train"], "val_positions": positions["val"],
        "rejected": dict(sorted(rejected.items())), "chunks": nchunks, "chunks_built_now": built,
        "seconds": round(seconds, 1), "games_per_s": round(games_read / seconds, 1) if built == nchunks and seconds else None,
        "bytes": size_bytes, "rejected_examples": examples,
    }
    atomic_write_bytes(out_dir / "summary.json", json.dumps(summary, indent=1).encode())
    return summary


def _split_dirs(out_dir: Path) -> list[Path]:
    return [p for split in ("train", "val") for p in (out_dir / split).glob("*x*") if p.is_dir()]


def why_empty(summary: dict, opts: BuildOptions) -> str:
    """One line on why a build kept no game, naming the option that would keep some where one would."""
    by_size = summary["games_read_by_size"]
    readable = sum(by_size.values())
    if not readable:
        return (f"no SGF game found: {summary['files_read']} files read, {summary['games_read']} games read, "
                f"{summary['rejected'].get('unreadable file', 0)} files unreadable")
    if opts.size is not None and f"{opts.size}x{opts.size}" not in by_size:
        if len(by_size) == 1:
            (name, n), = by_size.items()
            return f"all {n} games are {name}: pass --size {name.split('x')[0]}"
        counts = ", ".join(f"{n} {name}" for name, n in by_size.items())
        return f"no game is {opts.size}x{opts.size} ({counts}): pass --size with one of those, or --size 0 for all"
    reasons = Counter(summary["rejected"]).most_common()
    return f"all {summary['games_read']} games were rejected: " + ", ".join(f"{kind} {n}" for kind, n in reasons)
