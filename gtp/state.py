"""What Tengen's GTP commands act on: the game, the player and its search, the clock, the evaluator.

``EngineState`` also makes the engine's decisions that are not GTP syntax:
``genmove`` (the player's search and choice, then the engine's pass policy:
once the opponent has passed, pass back if that wins, after capturing the
opponent's dead stones in one's own area, and resign or pass at once when the
position is settled and the count does not win; in ``kgs-genmove_cleanup`` never
resign and capture dead stones before passing), the position's final ownership
and dead stones (random playouts, or a short search's ownership with a network
whose ownership head learnt settled ownership; cached), pondering on the opponent's time and the warm-up before the first
request. The command handlers in ``gtp.commands`` are mixins over this class.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Callable, TextIO

import numpy as np

from go_engine import deadstones
from go_engine.coords import COLUMNS, PASS
from go_engine.game import Game, check_komi, parse_color
from go_engine.rules import Rules, get_rules
from selfplay.evaluators import PlayoutEvaluator
from selfplay.player import Player, PlayerConfig
from selfplay.search import Search, SearchConfig

from .timecontrol import TimeControl

DEAD_STONE_SOURCES = ("playouts", "network")
DEAD_STONE_VISITS = 200  # of the search whose ownership tells dead stones by the network
# a position is settled when random playouts give every point the same owner in at least (1 + SETTLED) / 2 of
# them (95%): in 250 9x9 games against GNU Go no position that Tengen played on from after GNU Go's pass, settled
# and not won by the count, ended better for Tengen than that count (docs/benchmarks.md)
SETTLED = 0.9


@dataclass
class EngineOptions:
    """The options of ``tengen gtp`` and ``tengen play``; the command line takes its defaults from here."""

    visits: int = 200  # per move, those of the subtree kept from the last move included; 1: no search
    resign_threshold: float = 0.1  # win rate; 0 never resigns
    playouts: int = 4  # random playouts per leaf, without a network
    backend: str = "auto"  # where the network runs: selfplay.evaluators.BACKENDS
    # the network's number type (selfplay.evaluators.PRECISIONS): float32, because bf16 is weaker per visit and
    # its gain on a clock is not proven (figures: the --precision help and docs/benchmarks.md, "v9 in bf16 against
    # v9"); a crash seen in a test process that ran bf16 on AMX may be the signal-stack fault that
    # policy.openvino_backend.shared_core ends (not checked on AMX)
    precision: str = "float32"
    size: int = 19
    komi: float = 7.5
    rules: str = "chinese"
    seed: int | None = None  # of the searches (None: 0) and of the random moves' draws (None: fresh each run)
    analysis_interval: float = 0.1  # seconds between analysis lines when the request names no interval
    ponder: bool = False  # search on the opponent's time
    ponder_visits: int = 100_000  # pondering and lz-/kata-analyze stop searching at this many visits
    move_seconds: float | None = None  # per move when no clock is set (the visit cap still applies)
    random_moves: int = 0  # opening moves drawn in proportion to visits, so that matches do not repeat games
    file_commands: bool = True  # loadsgf and printsgf FILE; off for a bridge to a server (nobody's files)
    # how final_status_list, final_score and genmove's pass decisions tell dead stones: "playouts" (random
    # playouts of the position) or "network" (the ownership of a short search; it needs a network whose
    # ownership head learnt settled ownership, as the bundled one did; playouts pick GNU Go's winner more often: bench/dead_stones.py)
    dead_stones: str = "playouts"
    # weight of the score in the search's move utility (SearchConfig.score_utility; KataGo's
    # dynamicScoreUtilityFactor); 0: the win rate alone
    score_utility: float = SearchConfig.score_utility
    # the priors' temperature at every node of the search (SearchConfig.policy_temperature; KataGo's
    # nnPolicyTemperature); 1: the network's own
    policy_temperature: float = SearchConfig.policy_temperature
    # read each batch of leaves under one of the 8 symmetries of the board, drawn at random (Leela Zero's and
    # KataGo's default), so that the network's errors are not the same in every line; off: the identity
    random_symmetry: bool = False


class EngineState:
    """The engine's game and settings, its player (search tree, move choice, resignation) and clock."""

    def __init__(self, evaluator, options: EngineOptions, log: TextIO | None = None) -> None:
        if options.dead_stones not in DEAD_STONE_SOURCES:
            raise ValueError(f"dead_stones must be one of {', '.join(DEAD_STONE_SOURCES)}, got {options.dead_stones!r}")
        self.options = options
        self.log_file = log if log is not None else sys.stderr
        self.evaluator = evaluator
        self.visits = max(1, int(options.visits))
        self.search_cfg = SearchConfig(score_utility=float(options.score_utility),
                                       policy_temperature=float(options.policy_temperature))
        player = PlayerConfig(random_moves=max(0, int(options.random_moves)), resign_threshold=options.resign_threshold)
        self.player = Player(player, self.search_cfg, seed=0 if options.seed is None else options.seed,
                             rng=np.random.default_rng(options.seed), track_ownership=True)
        self.size, self.komi, self.rules = options.size, float(options.komi), options.rules
        self.game = Game(self.size, self.komi, self.rules)
        self.clock = TimeControl()
        self._dead_cache: tuple | None = None

    @property
    def search(self) -> Search | None:
        """The player's search tree (of the last move searched), if any."""
        return self.player.search

    def log(self, msg: str) -> None:
        print(msg, file=self.log_file, flush=True)

    # -- the game
    def new_game(self) -> None:
        """An empty board of the engine's size, komi and rules."""
        self.game = Game(self.size, self.komi, self.rules)
        self.player.reset()
        self.clock.new_game()
        self._warm_network()

    def set_komi(self, komi: float) -> None:
        """Play on under ``komi`` (``ValueError`` unless finite and within ``MAX_POINTS``)."""
        komi = check_komi(komi)
        self.komi = komi
        self.game.komi = komi
        self.player.reset()

    def set_rules(self, rules: str | Rules) -> None:
        """Play on under ``rules`` (a preset name or a ``Rules``): the moves so far are replayed
        (``ValueError`` after setup stones)."""
        rules = get_rules(rules)
        g = self.game
        if g.history:
            if any(c == 0 for c, _ in g.history):
                raise ValueError("cannot change rules after setup stones")
            ng = Game(g.size, g.komi, rules)
            for c, v in g.moves:
                ng.play(v, c)
            self.game = ng
        else:
            self.game = Game(g.size, g.komi, rules)
        self.rules = rules
        self.player.reset()

    def load(self, game: Game) -> None:
        """Go on from ``game`` (a loaded record): its size and komi become the engine's."""
        self.game = game
        self.size, self.komi = game.size, game.komi
        self.player.reset()
        self._warm_network()

    def final_ownership(self, game: Game | None = None, visits: int = DEAD_STONE_VISITS,
                        source: str | None = None) -> np.ndarray:
        """Who owns each point once ``game`` (default: the engine's) is played out: float [row, col], +1
        Black, -1 White. ``source`` (default: the ``dead_stones`` option) "network": the search-weighted
        ownership of a ``visits``-visit search from the position, play resumed and a pass kept out at the
        root (so that few lines end in two passes, whose Tromp-Taylor count leaves dead stones standing);
        "playouts", no network or an evaluator without ownership: random playouts. Cached for the last
        position asked."""
        g = game or self.game
        source = source or self.options.dead_stones
        key = (g.hash, g.to_play, len(g.history), g.komi, g.rules, visits, source)
        if self._dead_cache and self._dead_cache[0] == key:
            return self._dead_cache[1]
        own = None
        if source == "network" and not isinstance(self.evaluator, PlayoutEvaluator) and g.resigned is None:
            pos = g.copy()
            pos.resume()
            s = Search(pos, self.search_cfg, seed=0, track_ownership=True)
            s.exclude_root_moves([PASS])
            s.run(visits, self.evaluator, batch_size=8)
            found = s.root_ownership()
            if found is not None:
                own = found.mean if pos.to_play == "B" else -found.mean
        if own is None:
            own = deadstones.playout_ownership(g)
        self._dead_cache = (key, own)
        return own

    def settled_count(self, game: Game, color: str) -> float | None:
        """``color``'s count with dead stones removed (by the playouts' estimate) when ``game`` is settled: random
        playouts agree on the owner of every point (``SETTLED``); None while something is left to play for."""
        own = self.final_ownership(game, source="playouts")
        if float(np.abs(own).min()) < SETTLED:
            return None
        return count_for(game, color, deadstones.dead_stones(game, own))

    def dead_if_passing(self, game: Game, color: str) -> list[str]:
        """The dead stones to count the game with if ``color`` passed now: those judged with either player to
        move, whichever gives ``color`` the lower count. Judged with ``color`` to move alone, random playouts
        that start with its own move save groups the opponent could still kill: in matches against GNU Go,
        where the two disagreed as Tengen passed, GNU Go's count agreed with the opponent-to-move view
        (docs/benchmarks.md); that view alone is not always the lower one."""
        after = game.copy()
        after.play("pass", color)
        views = [self.dead_stones(game), self.dead_stones(after)]
        return min(views, key=lambda dead: count_for(game, color, dead))

    def dead_stones(self, game: Game | None = None) -> list[str]:
        """Stones whose chain the opponent owns on average in ``final_ownership``."""
        g = game or self.game
        return deadstones.dead_stones(g, self.final_ownership(g))

    # -- moves
    def budget(self, color: str) -> float | None:
        """Seconds to spend on ``color``'s next move, or None for no limit but the visits."""
        b = self.clock.budget(color, int((self.game.board == 0).sum()))
        return self.options.move_seconds if b is None else b

    def genmove(self, color: str, cleanup: bool = False, play: bool = True,
                on_chunk: Callable[[Search], None] | None = None) -> str:
        """``color``'s move (a vertex, ``pass`` or ``resign``), played unless ``play`` is False;
        ``on_chunk`` sees the search as it grows. ``cleanup``: kgs-genmove_cleanup."""
        c = parse_color(color)
        if self.game.resigned:  # checked before ready_to_move changes the player to move
            raise ValueError(f"the game is over: {self.game.resigned} resigned")
        g = ready_to_move(self.game, c)
        budget = self.budget(c)
        t0 = time.monotonic()
        deadline = None if budget is None else t0 + budget
        raw = self.visits <= 1 and deadline is None  # no search: the network's favourite legal move
        last_pass = bool(g.moves) and g.moves[-1][1] == "pass"
        sign = 1 if c == "B" else -1
        settled = self.settled_count(g, c) if last_pass and not cleanup else None
        if settled is not None and settled <= 0:
            # The opponent passed and nothing is left to play for: the count stands whatever either side
            # plays, and the network's value, which does not see that, would play on for tens of moves.
            if settled < 0 and self.options.resign_threshold > 0:
                self.log(f"resigning: the position is settled and the count loses by {-settled:g}")
                return "resign"
            self.log(f"genmove {c}: pass, the position is settled and the count gives {settled:+g}")
            if play:
                g.play("pass", c)
            return "pass"
        # the dead stones a pass of ours would be counted with (each estimate runs playouts or a search twice)
        pass_dead = self.dead_if_passing(g, c) if last_pass and not cleanup else None
        passing_loses = False
        if last_pass and not cleanup and not raw:
            # The opponent passed: the game ends if we pass, and the scorer will take dead stones off
            # where Tromp-Taylor leaves every stone standing. A new tree counts two passes that way.
            # If passing back loses that count, the tree also leaves the pass out, so that the visits
            # go to the moves that play on (and the win rate, which decides resigning, is theirs).
            # A draw keeps the pass: the search weighs it against playing on.
            assert pass_dead is not None
            fresh = self.player.new_search(g)
            fresh.count_dead_stones([g._point(v) for v in pass_dead])
            passing_loses = count_for(g, c, pass_dead) < 0
            if passing_loses:
                fresh.exclude_root_moves([PASS])
        s = self.player.think(g, self.evaluator, 1 if raw else self.visits, deadline, on_chunk)
        move = self.player.choose(by_prior=raw)
        winrate = self.player.winrate()
        if not cleanup and self.player.wants_to_resign():
            self.log(f"resigning at winrate {winrate:.3f}")
            return "resign"
        if cleanup:
            opp = 1 if c == "W" else -1
            dead = [v for v in self.dead_stones(g) if g.board[int(v[1:]) - 1, COLUMNS.index(v[0])] == opp]
            if move == "pass" and dead:
                move = self._cleanup_move(g, c, s, dead)
        elif move == "pass":
            # Never pass into a lost count: the search scores two passes by Tromp-Taylor (every stone
            # alive), so with groups in chaos or dead stones standing it can see a win where the
            # count with dead stones removed, the way the game will be scored, is a loss.
            if pass_dead is None:
                pass_dead = self.dead_if_passing(g, c)
            if count_for(g, c, pass_dead) < 0:
                move = self._play_on_move(g, c, s)
        elif passing_loses and g.fills_own_eye(move, c):
            # Kept from passing, the search may find nothing better than filling its own eyes, and the
            # network does not see the group die: play on elsewhere, or pass when only that is left.
            move = self._play_on_move(g, c, s)
        elif move != "pass" and last_pass:
            # The opponent passed: pass back if that wins. Under area scoring the win must not hang
            # on our estimate of dead stones: while the opponent's dead stones stand in our area,
            # capture them first (it costs nothing there), so that any scorer agrees.
            assert pass_dead is not None
            if count_for(g, c, pass_dead) > 0:
                theirs = [v for v in pass_dead if g.board[int(v[1:]) - 1, COLUMNS.index(v[0])] == -sign]
                if g.rules.scoring == "territory" or not theirs or sign * g.score() > 0:
                    move = "pass"
                else:
                    move = self._cleanup_move(g, c, s, theirs)
        self.log(f"genmove {c}: {move} winrate {winrate:.3f} visits {s.root_visits}"
                 f" in {time.monotonic() - t0:.2f}s")
        if play:
            g.play(move, c)
        return move

    def _play_on_move(self, g: Game, c: str, s: Search) -> str:
        """The search's favourite move other than a pass that does not fill one of ``c``'s own eyes,
        or ``pass`` when there is none."""
        for a in s.analysis(min_moves=len(g.legal_moves(c))):
            if a["move"] != "pass" and not g.fills_own_eye(a["move"], c):
                return a["move"]
        return "pass"

    def _cleanup_move(self, g: Game, c: str, s: Search, dead: list[str]) -> str:
        """A move that attacks the ``dead`` stones (a liberty of theirs, the search's favourite of
        those first), else the search's best move other than a pass."""
        legal = set(g.legal_moves(c))
        libs = []
        for v in dead:
            r, col = int(v[1:]) - 1, COLUMNS.index(v[0])
            for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                rr, cc = r + dr, col + dc
                if 0 <= rr < g.size and 0 <= cc < g.size:
                    nv = f"{COLUMNS[cc]}{rr + 1}"
                    if nv in legal and nv not in libs:
                        libs.append(nv)
        ranked = [a["move"] for a in s.analysis() if a["move"] != "pass"]
        for m in ranked:
            if m in libs:
                return m
        return libs[0] if libs else ranked[0] if ranked else "pass"

    def best_moves(self, n: int = 3) -> list[dict]:
        """The search's best moves for the player to move, without playing (``tengen play``'s hint)."""
        g = self.game
        budget = self.budget(g.to_play)
        s = self.player.think(g, self.evaluator, self.visits, None if budget is None else time.monotonic() + budget)
        return s.analysis(n)

    # -- between requests
    def ponder(self, pending: Callable[[], bool]) -> None:
        """Search the position after our last move until ``pending`` says a request has arrived (the
        opponent's time). The tree is kept: when the opponent plays, the next genmove starts from its
        subtree."""
        if self.player.search is None or self.game.is_over:
            return
        s = self.player.sync(self.game)
        start = s.root_visits
        while not pending() and s.root_visits < self.options.ponder_visits:
            s.run(8, self.evaluator, batch_size=8)
        self.log(f"pondered {s.root_visits - start} visits")

    def _warm_network(self) -> None:
        """Have the evaluator make ready what the searches of this board size will run (OpenVINO compiles
        per input shape): when the board changes size, not in the next timed genmove."""
        warm_up = getattr(self.evaluator, "warm_up", None)
        if warm_up is not None:
            warm_up(self.size)

    def warm_up(self) -> float:
        """Load the compiled kernels and run the network once (its shapes for this board size made ready),
        before the first request, so that the first genmove under a clock does not pay for them; returns
        the seconds it took."""
        t0 = time.monotonic()
        self._warm_network()
        s = Search(Game(self.size, self.komi, self.rules), self.search_cfg, seed=self.player.seed)
        s.run(16, self.evaluator, batch_size=8)
        s.advance(s.choose_vertex())  # tree reuse, as after every move of a game
        s.run(8, self.evaluator, batch_size=8)
        s.analysis()
        self.final_ownership(s.game, visits=8)  # the search or playouts that run once the opponent passes
        self._dead_cache = None
        return time.monotonic() - t0


def count_for(game: Game, color: str, dead: list[str]) -> float:
    """``color``'s lead in ``game``'s count with the stones ``dead`` taken off (negative: behind)."""
    return (1 if color == "B" else -1) * game.final_score(dead)


def ready_to_move(game: Game, color: str | None = None) -> Game:
    """``game`` itself, with play resumed after two passes (GTP lets moves and analysis follow them)
    and ``color`` to move if given."""
    if game.passes >= 2 and game.resigned is None:
        game.resume()
    if color is not None and game.to_play != color:
        game.to_play = color
    return game
