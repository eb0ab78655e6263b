"""Game review: ``tengen review GAME.sgf``.

Every position of the game's main line goes through the analysis engine in one
query (``gtp.analysis_engine``: the positions are searched side by side and
share the network calls). For each move the review compares the position
before it with the position after it, both from Black's view: the win rate and
the score lead the move gave away are its loss (as KaTrain's "points lost").
It writes the game again as SGF with the evaluation of every move in its
comment (win rate and score before and after, the search's choice and its
line), the largest mistakes of each player marked as bad moves (``BM[1]``,
``BM[2]`` from ``VERY_BAD`` points on) with a summary in the game comment, and
a PNG graph of Black's win rate and score lead over the game.
"""

from __future__ import annotations

import io
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from go_engine.atomic import atomic_write_bytes
from go_engine.sgf import read_sgf_file, write_sgf

from .analysis_engine import DEFAULT_CACHE, AnalysisEngine
from .state import EngineOptions

MIN_LOSS = 1.0  # points a move must lose to be marked as a mistake
VERY_BAD = 6.0  # points from which a mistake is marked BM[2]


@dataclass
class Turn:
    """The search's evaluation of one position, from Black's view."""

    winrate: float
    score: float
    best: str
    pv: list[str]
    visits: int


@dataclass
class Move:
    """One move of the game and what it lost (for the player who made it: positive = worse)."""

    number: int
    color: str
    vertex: str
    winrate_loss: float
    score_loss: float
    mistake: int = 0  # 0, or its rank among the player's marked mistakes (1 = the largest)


@dataclass
class Review:
    turns: list[Turn]
    moves: list[Move]
    sgf: Path
    png: Path | None
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def mistakes(self) -> list[Move]:
        return sorted((m for m in self.moves if m.mistake), key=lambda m: -m.score_loss)


def _score(lead: float) -> str:
    return "0" if abs(lead) < 0.05 else f"{'B' if lead > 0 else 'W'}+{abs(lead):.1f}"


def _query(sgf, rules, visits: int, komi: float) -> dict:
    """The analysis query of every position of the game ``sgf`` under ``rules``, in Black's view."""
    setup = [["B", v] for v in sgf.setup.black] + [["W", v] for v in sgf.setup.white]
    return {"id": "review", "moves": [list(m) for m in sgf.moves], "initialStones": setup,
            "initialPlayer": sgf.to_play, "komi": komi, "boardXSize": sgf.size, "boardYSize": sgf.size,
            "rules": {"ko": rules.ko.upper(), "scoring": rules.scoring.upper(), "suicide": rules.suicide,
                      "whiteHandicapBonus": rules.handicap_bonus},
            "analyzeTurns": list(range(len(sgf.moves) + 1)), "maxVisits": visits,
            "overrideSettings": {"reportAnalysisWinratesAs": "BLACK"}}


def analyse(engine: AnalysisEngine, query: dict, progress: bool = True) -> list[Turn]:
    """Run ``query`` on ``engine`` (in this process) to the end; the evaluation of every turn."""
    from tqdm import tqdm

    results: dict[int, dict] = {}
    errors: list[str] = []

    def collect(r: dict) -> None:
        if "error" in r:
            errors.append(f"{r.get('field', 'query')}: {r['error']}")
        elif "rootInfo" in r and not r["isDuringSearch"]:
            results[r["turnNumber"]] = r

    engine.emit = collect
    engine.submit(json.dumps(query))
    if errors:
        raise ValueError(errors[0])
    n = len(query["analyzeTurns"])
    with tqdm(total=n, unit="pos", desc="review", disable=not progress, file=sys.stderr) as bar:
        while engine.step():
            bar.update(len(results) - bar.n)
        bar.update(len(results) - bar.n)
    if errors:
        raise ValueError(errors[0])
    turns = []
    for t in range(n):
        r = results[t]
        top = r["moveInfos"][0] if r["moveInfos"] else {"move": "pass", "pv": []}
        turns.append(Turn(r["rootInfo"]["winrate"], r["rootInfo"]["scoreLead"], top["move"], top["pv"],
                          r["rootInfo"]["visits"]))
    return turns


def judge(turns: list[Turn], moves: list[tuple[str, str]], mistakes: int) -> list[Move]:
    """What each move lost, and the ``mistakes`` largest losses of each player (at least ``MIN_LOSS``
    points) ranked."""
    out = []
    for k, (color, vertex) in enumerate(moves, start=1):
        sign = 1.0 if color == "B" else -1.0
        before, after = turns[k - 1], turns[k]
        out.append(Move(k, color, vertex, sign * (before.winrate - after.winrate), sign * (before.score - after.score)))
    for color in "BW":
        worst = sorted((m for m in out if m.color == color and m.score_loss >= MIN_LOSS),
                       key=lambda m: (-m.score_loss, -m.winrate_loss))[:mistakes]
        for rank, m in enumerate(worst, start=1):
            m.mistake = rank
    return out


def comments(turns: list[Turn], moves: list[Move], visits: int) -> dict[int, str]:
    """The review's comment on every move (its number as key; 0: the summary)."""
    out = {}
    for m in moves:
        before, after = turns[m.number - 1], turns[m.number]
        head = f"Mistake: {m.score_loss:.1f} points lost. " if m.mistake else ""
        verb = "lost" if m.score_loss >= 0 else "gained"
        line = (f"{head}{m.color} {m.vertex}: win rate B {before.winrate:.1%} -> {after.winrate:.1%}, "
                f"score {_score(before.score)} -> {_score(after.score)}: {m.color} {verb} "
                f"{abs(m.score_loss):.1f} points ({-m.winrate_loss:+.1%} win rate).")
        if before.best != m.vertex:
            line += f" Tengen: {before.best} ({' '.join(before.pv[:8])})."
        out[m.number] = line
    summary = [f"Tengen review, {visits} visits per position. Start: win rate B {turns[0].winrate:.1%}, "
               f"score {_score(turns[0].score)}."]
    for color, name in (("B", "Black"), ("W", "White")):
        worst = sorted((m for m in moves if m.color == color and m.mistake), key=lambda m: m.mistake)
        if worst:
            summary.append(f"{name}'s largest mistakes: " + ", ".join(
                f"move {m.number} {m.vertex} ({m.score_loss:.1f} points)" for m in worst) + ".")
    out[0] = "\n".join(summary)
    return out


def graph(turns: list[Turn], moves: list[Move], title: str, path: Path) -> None:
    """Black's win rate and score lead over the game, mistakes marked, as a PNG (written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = list(range(len(turns)))
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    a1.plot(x, [100 * t.winrate for t in turns], color="black", lw=1.2)
    a1.axhline(50, color="grey", lw=0.6)
    a1.set_ylim(0, 100)
    a1.set_ylabel("Black's win rate (%)")
    a2.plot(x, [t.score for t in turns], color="tab:blue", lw=1.2)
    a2.axhline(0, color="grey", lw=0.6)
    a2.set_ylabel("Black's score lead (points)")
    a2.set_xlabel("move")
    for color, c, name in (("B", "tab:red", "Black's mistakes"), ("W", "tab:orange", "White's mistakes")):
        marked = [m.number for m in moves if m.mistake and m.color == color]
        if marked:
            a1.plot(marked, [100 * turns[k].winrate for k in marked], "o", color=c, ms=5, label=name)
            a2.plot(marked, [turns[k].score for k in marked], "o", color=c, ms=5)
            for k in marked:
                a2.annotate(str(k), (k, turns[k].score), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if any(m.mistake for m in moves):
        a1.legend(loc="upper left", fontsize=8)
    a1.set_title(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def review(path: str | Path, visits: int = 100, out: str | Path | None = None, png: str | Path | None = None,
           evaluator=None, game: int = 1, mistakes: int = 5, positions: int = 32, leaves: int = 4,
           progress: bool = True) -> Review:
    """Review game ``game`` (from 1) of the SGF file ``path``: write ``out`` (default ``NAME-review.sgf``
    beside it) and the graph ``png`` (default ``out`` with ``.png``; ``""`` for none)."""
    path = Path(path)
    games = read_sgf_file(path)
    if not 1 <= game <= len(games):
        raise ValueError(f"{path}: no game {game} (the file holds {len(games)})")
    sgf = games[game - 1]
    if sgf.later_setups:
        raise ValueError(f"{path}: stones are set up after move {sgf.later_setups[0][0]}: "
                         "a review plays the game from its start position")
    if not sgf.moves:
        raise ValueError(f"{path}: the game has no moves")
    played = sgf.replay()  # the rules' verdict on every move, with its number, before any search
    notes = []
    komi = round(sgf.komi * 2) / 2
    if komi != sgf.komi:
        notes.append(f"komi {sgf.komi:g} analysed as {komi:g} (the protocol takes integer or half-integer komi)")
    if evaluator is None:
        from selfplay.evaluators import load_evaluator

        evaluator = load_evaluator(None, cache_size=DEFAULT_CACHE)
    engine = AnalysisEngine(evaluator, positions=positions, leaves=leaves, log=io.StringIO())
    t0 = time.monotonic()
    turns = analyse(engine, _query(sgf, played.rules, visits, komi), progress)
    seconds = time.monotonic() - t0
    moves = judge(turns, sgf.moves, mistakes)
    notes_by_move = comments(turns, moves, visits)
    for k, text in sgf.comments.items():  # the record's own comments stay, first
        notes_by_move[k] = text + "\n\n" + notes_by_move[k] if k in notes_by_move else text
    marks = {m.number: {"BM": "2" if m.score_loss >= VERY_BAD else "1"} for m in moves if m.mistake}
    info = sgf.info()
    info.pop("comments", None)
    out = Path(out) if out else path.with_name(f"{path.stem}-review.sgf")
    atomic_write_bytes(out, write_sgf(played, **info, comments=notes_by_move, move_properties=marks).encode("utf-8"))
    png_path = None if png == "" else Path(png) if png else out.with_suffix(".png")
    if png_path is not None:
        title = f"{sgf.black or 'Black'} vs {sgf.white or 'White'}: {len(sgf.moves)} moves, {visits} visits"
        graph(turns, moves, title, png_path)
    return Review(turns, moves, out, png_path, seconds, notes)


def run_review(path: str, model: str | None = None, device: str = "cpu", threads: int | None = None,
               backend: str = EngineOptions.backend, precision: str = EngineOptions.precision,
               **options) -> int:
    """Entry point of ``tengen review``: the review's files, and its mistakes on stdout (the network on
    ``backend`` in ``precision``: ``selfplay.evaluators.BACKENDS``, ``PRECISIONS``)."""
    from selfplay.evaluators import load_evaluator

    if threads:
        import torch

        torch.set_num_threads(threads)
    evaluator = load_evaluator(model, device, playouts=4, cache_size=DEFAULT_CACHE, backend=backend,
                               precision=precision)
    r = review(path, evaluator=evaluator, **options)
    for note in r.notes:
        print(f"note: {note}", file=sys.stderr)
    n = len(r.turns)
    print(f"{n} positions in {r.seconds:.1f} s ({n / max(r.seconds, 1e-9):.1f} positions/s)")
    for m in r.mistakes:
        print(f"move {m.number:>3} {m.color} {m.vertex:<4} lost {m.score_loss:5.1f} points, {m.winrate_loss:+.1%} win rate")
    print(f"review: {r.sgf}" + (f"\ngraph: {r.png}" if r.png else ""))
    return 0
