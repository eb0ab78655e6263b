"""Dead stones and settled ownership from random playouts of a position.

A chain is dead when its points are owned by the opponent in most random
playouts (both sides play randomly but never fill their own eyes) and it is not
in seki. The GTP engine's ``final_score``/``final_status_list`` (without a
network) and the data build's ownership targets use this one estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels as K
from .coords import COLUMNS, to_index
from .game import Game
from .playout import PlayoutResult, random_playouts

DEFAULT_PLAYOUTS = 200
DEFAULT_SEED = 12345


def playable_playouts(game: Game, playouts: int, seed: int) -> PlayoutResult:
    """Random playouts of ``game``, played on even after two passes (which end a playout at once)."""
    if game.passes >= 2 and game.resigned is None:
        game = game.copy()
        game.resume()
    return random_playouts(game, playouts, seed=seed)


def playout_ownership(game: Game, playouts: int = DEFAULT_PLAYOUTS, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Mean final owner of each point (+1 Black, -1 White) over random playouts of ``game``."""
    return playable_playouts(game, playouts, seed).ownership


def chains(board: np.ndarray) -> list[list[tuple[int, int]]]:
    """The chains of ``board`` (int8 ``[row, col]``, 0 empty) as lists of ``(row, col)``."""
    size = board.shape[0]
    seen = np.zeros_like(board, dtype=bool)
    out = []
    for r in range(size):
        for c in range(size):
            if board[r, c] == 0 or seen[r, c]:
                continue
            col = board[r, c]
            stack, chain = [(r, c)], []
            seen[r, c] = True
            while stack:
                a, b = stack.pop()
                chain.append((a, b))
                for x, y in ((a + 1, b), (a - 1, b), (a, b + 1), (a, b - 1)):
                    if 0 <= x < size and 0 <= y < size and not seen[x, y] and board[x, y] == col:
                        seen[x, y] = True
                        stack.append((x, y))
            out.append(chain)
    return out


def dead_stones(game: Game, ownership: np.ndarray | None = None) -> list[str]:
    """Vertices of the stones whose chain is owned by the opponent on average over ``ownership``
    (by default the random-playout ownership of ``game``), but for chains in seki (``K.k_in_seki``):
    random playouts fill a seki's shared liberties and capture one side of it, which is alive."""
    board = game.board
    own = playout_ownership(game) if ownership is None else ownership
    dead = []
    for chain in chains(board):
        color = board[chain[0]]
        if float(np.mean([own[p] for p in chain])) * color < 0:
            if not K.k_in_seki(game._S, game._meta, to_index(*chain[0], game.size)):
                dead += [f"{COLUMNS[c]}{r + 1}" for r, c in chain]
    return dead


def seki_chains(game: Game) -> list[list[tuple[int, int]]]:
    """The chains of ``game`` in seki: no player can take any of their liberties, one of which touches the
    opponent's stones (``K.k_in_seki``; a chain with eyes of its own alone is merely alive)."""
    return [chain for chain in chains(game.board)
            if K.k_in_seki(game._S, game._meta, to_index(*chain[0], game.size)) == K.SEKI]


@dataclass(frozen=True)
class Settlement:
    """A finished position with its dead stones decided."""

    dead: list[str]  # vertices of the dead stones
    ownership: np.ndarray  # int8 [row, col]: +1 Black, -1 White, 0 neither, once the dead stones are removed


def settle(game: Game, playouts: int = DEFAULT_PLAYOUTS, seed: int = DEFAULT_SEED) -> Settlement:
    """Decide the dead stones of ``game``'s position by random playouts and the owner of every point
    once they are removed (Tromp-Taylor reach, so dame and seki liberties stay 0)."""
    dead = dead_stones(game, playout_ownership(game, playouts, seed))
    return Settlement(dead, game.ownership(dead))
