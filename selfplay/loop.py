"""The learning loop: self-play -> training on a window of recent games -> evaluation (``tengen loop``).

Everything lives under the run folder and every step is resumable, so a
killed loop continues where it stopped::

    RUN/loop.json               the settings (a rerun must match them)
    RUN/gen-000/model.pt        the first network (random, or --init)
    RUN/gen-NNN/games/          the self-play games that generation NNN trains on first, played
                                by the best network so far (SGF, shards, statistics)
    RUN/gen-NNN/train/          training of network NNN (checkpoint, metrics); model.pt beside it
    RUN/gen-NNN/vs-best/        match of network NNN against the best before it (in-process arena)
    RUN/gen-NNN/vs-gnugo-LK/    periodic match against GNU Go level K
    RUN/gen-NNN/done.json       rating, games and seconds so far: the generation is complete

Ratings are Elo-style: generation 0 is 0, and each network's rating is its
opponent's plus the Elo difference implied by its score in their match
(clamped to +-800 for a 100% or 0% score). Without gating the opponent is
always the network before it.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from go_engine.atomic import atomic_write_bytes, folder_lock
from go_engine.stats import elo, score_of, wilson

from .selfplay import SelfPlayConfig, run_selfplay

GNUGO = "/usr/games/gnugo"


@dataclass
class LoopConfig:
    """The loop's settings; board size, komi and rules are the self-play ones (``selfplay``)."""

    generations: int = 10
    minutes: float | None = None  # start no generation after this much time (the loop's own seconds)
    games: int = 200  # self-play games per generation
    window: int = 4  # train on the games of this many latest generations
    steps: int = 500  # training steps per generation
    batch_size: int = 128
    lr: float = 2e-3
    blocks: int = 6  # the first network's size: smaller than NetConfig's 6 x 64, for quick generations
    channels: int = 32
    init: str | None = None  # start from this network instead of a random one
    # cheaper searches than tengen selfplay's, so that a generation's games take minutes
    selfplay: SelfPlayConfig = field(default_factory=lambda: SelfPlayConfig(full_visits=100, fast_visits=20))
    workers: int = 1
    train_procs: int = 1  # more: training runs under torchrun, one process per GPU (or CPU process, gloo)
    ray_actors: int = 0  # with a number, self-play runs on that many Ray actors (pip install .[distributed])
    eval_games: int = 20
    eval_visits: int = 50
    gate: float | None = None  # with a value, a network scoring less against the best is not used for self-play
    gnugo_every: int = 0  # generations between GNU Go matches (0: never)
    gnugo_levels: tuple[int, ...] = (1, 10)
    gnugo_games: int = 10
    gnugo_random_moves: int = 6  # opening moves Tengen draws by visits in GNU Go matches, so games differ
    parallel: int = 2  # games at once in evaluation matches
    seed: int = 0


def _gen(run: Path, g: int) -> Path:
    return run / f"gen-{g:03d}"


def _arena(cfg: LoopConfig, a: Path, b: Path, names: tuple[str, str], games: int, out: Path, seed: int,
           visits: int | None = None) -> dict:
    from .arena import ArenaConfig, play_match
    from .selfplay import make_evaluator

    sp = cfg.selfplay
    ac = ArenaConfig(size=sp.size, komi=sp.komi, rules=sp.rules, visits=visits or cfg.eval_visits,
                     parallel=min(games, 16))
    res = play_match((make_evaluator(str(a)), make_evaluator(str(b))), names, ac, games, out, seed=seed)
    counted = [r for r in res if r.result != "Void"]  # a ko cycle: no result, as in tengen match
    return {"games": len(counted), "score": score_of(counted, names[0])}


def _gnugo_match(cfg: LoopConfig, model: Path, name: str, level: int, games: int, visits: int, parallel: int,
                 out: Path) -> dict:
    """Network ``model`` (``tengen gtp`` in a process of its own) against GNU Go at ``level``."""
    from go_engine.gtp_client import Limit

    from .arena import ArenaConfig
    from .match import MatchConfig, TengenCommand, run_match

    sp = cfg.selfplay
    tengen = TengenCommand(model=str(model), visits=visits, size=sp.size, komi=sp.komi, rules=sp.rules,
                           resign_threshold=ArenaConfig.resign_threshold, random_moves=cfg.gnugo_random_moves)
    # GNU Go passes with dead stones on the board, so Tromp-Taylor would misjudge its games: it scores them
    mc = MatchConfig(engines=(tengen.command(), f"{GNUGO} --mode gtp --level {level} --chinese-rules"),
                     names=(name, f"gnugo{level}"), games=games, size=sp.size, komi=sp.komi, rules=sp.rules,
                     limit=Limit(hard=300), scorer=f"{GNUGO} --mode gtp --chinese-rules", parallel=parallel,
                     out=str(out))
    res = run_match(mc, progress=lambda s: None)
    counted = [r for r in res.values() if r.result != "Void"]
    return {"games": len(counted), "score": score_of(counted, name)}


def _train(cfg: LoopConfig, window: list[str], tdir: Path, init: Path, seed: int) -> Path:
    """Train the next network from ``init`` on the games of ``window`` into ``tdir`` (resuming a checkpoint
    there): in this process, or under torchrun with ``cfg.train_procs`` processes that each take
    ``batch_size`` positions a step. Returns the model file."""
    from policy.modelfile import load_model
    from policy.train import TrainConfig, Trainer

    tc = TrainConfig(train=window, out=str(tdir), steps=cfg.steps, batch_size=cfg.batch_size, optimizer="adamw",
                     lr=cfg.lr, weight_decay=0.01, warmup_steps=min(100, cfg.steps // 10), eval_every=10 ** 9,
                     seed=seed, init=str(init), net=load_model(init)[1].config)
    resume = (tdir / "checkpoint.pt").exists()
    if cfg.train_procs <= 1:
        return Trainer(tc, resume=resume).run()
    import subprocess

    tdir.mkdir(parents=True, exist_ok=True)
    saved = tdir / "train-config.json"  # read by each process: python -m selfplay.loop FILE
    atomic_write_bytes(saved, json.dumps(asdict(tc), indent=1).encode())
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={cfg.train_procs}",
           "-m", "selfplay.loop", str(saved)] + (["--resume"] if resume else [])
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise RuntimeError(f"training under torchrun failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return tdir / "model.pt"


def _train_process(saved: str, resume: bool) -> None:
    """One of torchrun's training processes, on the ``TrainConfig`` that ``_train`` saved as JSON."""
    from policy.model import NetConfig
    from policy.train import TrainConfig, Trainer

    values = json.loads(Path(saved).read_text())
    Trainer(TrainConfig(**{**values, "net": NetConfig(**values["net"])}), resume=resume).run()


def _initial_model(run: Path, cfg: LoopConfig) -> None:
    from policy.model import GoNet, NetConfig
    from policy.modelfile import ModelInfo, load_model, save_model

    path = _gen(run, 0) / "model.pt"
    if path.exists():
        return
    if cfg.init:
        net, info = load_model(cfg.init)
        info.training = {"init": cfg.init, **info.training}
    else:
        import torch

        torch.manual_seed(cfg.seed)
        info = ModelInfo(NetConfig(blocks=cfg.blocks, channels=cfg.channels), board_sizes=[cfg.selfplay.size],
                         training={"init": "random"})
        net = GoNet(info.config)
    save_model(path, net, info)


def _state(run: Path, g: int) -> dict | None:
    f = _gen(run, g) / "done.json"
    return json.loads(f.read_text()) if f.exists() else None


def run_loop(run: str | Path, cfg: LoopConfig, progress=print, bar: bool = False) -> list[dict]:
    """Run (or resume) the loop to ``cfg.generations``; returns each generation's record. ``progress`` takes
    a line as each phase starts and ends; ``bar``: progress bars with the time left (generations, and the
    self-play games and training steps of each) on stderr. A second loop on the same folder is refused."""
    run = Path(run)
    with folder_lock(run, "loop"):
        return _run_loop(run, cfg, progress, bar)


def _run_loop(run: Path, cfg: LoopConfig, progress, bar: bool) -> list[dict]:
    settings = run / "loop.json"
    mine = json.loads(json.dumps(asdict(cfg)))
    if settings.exists():
        saved = json.loads(settings.read_text())
        diff = sorted(k for k in mine if k not in ("generations", "minutes") and saved.get(k) != mine[k])
        if diff:
            raise ValueError(f"{run} holds a loop with other settings ({', '.join(diff)}); use another folder")
    atomic_write_bytes(settings, json.dumps(mine, indent=1).encode())
    _initial_model(run, cfg)
    if _state(run, 0) is None:
        atomic_write_bytes(_gen(run, 0) / "done.json", json.dumps(
            {"generation": 0, "rating": 0.0, "best": 0, "games": 0, "seconds": 0.0}).encode())
    records = [_state(run, 0)]
    finished = sum(_state(run, g) is not None for g in range(1, cfg.generations + 1))
    gens = tqdm(total=cfg.generations, initial=finished, unit="gen", desc="loop", disable=not bar, dynamic_ncols=True)

    def phase(g: int, what: str) -> None:
        gens.set_description_str(f"generation {g}: {what.split(':')[0]}")
        progress(f"generation {g}: {what}")

    with gens:
        for g in range(1, cfg.generations + 1):
            prev = records[-1]
            done = _state(run, g)
            if done is not None:
                records.append(done)
                continue
            if cfg.minutes is not None and prev["seconds"] >= cfg.minutes * 60:
                progress(f"time budget of {cfg.minutes:g} minutes spent after generation {g - 1}")
                break
            t0 = time.monotonic()
            best = prev["best"]
            phase(g, f"self-play: {cfg.games} games of network {best}")
            games = _gen(run, g) / "games"
            if cfg.ray_actors:
                from .distributed import run_selfplay_ray

                sp = run_selfplay_ray(str(_gen(run, best) / "model.pt"), cfg.selfplay, cfg.games, games,
                                      actors=cfg.ray_actors, seed=cfg.seed * 1000 + g, progress=lambda s: None)
            else:
                sp = run_selfplay(str(_gen(run, best) / "model.pt"), cfg.selfplay, cfg.games, games,
                                  workers=cfg.workers, seed=cfg.seed * 1000 + g, bar=bar, desc=f"gen {g} self-play")
            oldest = max(1, g - cfg.window + 1)
            window = [str(_gen(run, k) / "games") for k in range(oldest, g + 1)]
            model = _gen(run, g) / "model.pt"
            if not model.exists():
                phase(g, f"training: {cfg.steps} steps on the games of generations {oldest} to {g}")
                trained = _train(cfg, window, _gen(run, g) / "train", _gen(run, g - 1) / "model.pt",
                                 seed=cfg.seed + g)
                shutil.copyfile(trained, model.with_suffix(".tmp"))
                model.with_suffix(".tmp").replace(model)
            phase(g, f"evaluation: {cfg.eval_games} games against network {best}")
            m = _arena(cfg, model, _gen(run, best) / "model.pt", (f"gen{g}", f"gen{best}"), cfg.eval_games,
                       _gen(run, g) / "vs-best", seed=cfg.seed * 1000 + g)
            rating = records[best]["rating"] + elo(m["score"], m["games"])
            passed = cfg.gate is None or (m["games"] and m["score"] / m["games"] >= cfg.gate)
            rec = {"generation": g, "rating": round(rating, 1), "vs_best": m, "opponent": best,
                   "best": g if passed else best, "games": prev["games"] + cfg.games, "selfplay": sp}
            if cfg.gnugo_every and g % cfg.gnugo_every == 0 and Path(GNUGO).exists():
                rec["gnugo"] = {}
                for level in cfg.gnugo_levels:
                    phase(g, f"GNU Go level {level}: {cfg.gnugo_games} games")
                    r = _gnugo_match(cfg, model, f"gen{g}", level, cfg.gnugo_games, cfg.eval_visits, cfg.parallel,
                                     _gen(run, g) / f"vs-gnugo-L{level}")
                    rec["gnugo"][str(level)] = r
            rec["seconds"] = round(prev["seconds"] + time.monotonic() - t0, 1)
            atomic_write_bytes(_gen(run, g) / "done.json", json.dumps(rec, indent=1).encode())
            progress(f"generation {g}: {m['score']:g}/{m['games']} against {best}, rating {rating:.0f}")
            records.append(rec)
            gens.update(1)
    return records


def load_config(run: str | Path) -> LoopConfig:
    """The settings a run was started with (``RUN/loop.json``)."""
    f = Path(run) / "loop.json"
    if not f.exists():
        raise FileNotFoundError(f"{run}: no loop.json (not a loop run folder)")
    try:
        saved = json.loads(f.read_text())
        known = {k: v for k, v in saved.items() if k in LoopConfig.__dataclass_fields__}
        known["selfplay"] = SelfPlayConfig(**saved["selfplay"])
        known["gnugo_levels"] = tuple(known.get("gnugo_levels", ()))
        return LoopConfig(**known)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ValueError(f"{f}: not the settings of a loop ({type(e).__name__}: {e})") from None


def final_eval(run: str | Path, games: int = 100, visits: int = 200, opponent: int = 0,
               gnugo_levels: tuple[int, ...] = (1, 10), gnugo_games: int = 50, parallel: int = 2,
               against: str | None = None, progress=print) -> dict:
    """The last finished network against network ``opponent`` (in-process, ``games`` games) and against
    GNU Go levels (``tengen match``), all at ``visits`` visits; written to ``RUN/final/``, resumable.

    ``against``: another model file to play instead of generation ``opponent`` (e.g. another run's)."""
    run = Path(run)
    cfg = load_config(run)
    last = -1
    while _state(run, last + 1) is not None:
        last += 1
    if last < 1:
        raise ValueError(f"{run}: no trained generation to evaluate")
    out = run / "final"
    model = _gen(run, last) / "model.pt"
    res: dict = {"generation": last, "visits": visits}

    def entry(score: float, n: int) -> dict:
        lo, hi = wilson(score, n)
        return {"score": score, "games": n, "rate": round(score / n, 4) if n else None,
                "wilson95": [round(lo, 4), round(hi, 4)]}

    if against:
        name = "-".join(Path(against).resolve().parts[-3:]).removesuffix(".pt")
        other, key, folder = Path(against), f"vs_{name}", f"vs-{name}"
    else:
        other, key, folder = _gen(run, opponent) / "model.pt", f"vs_gen{opponent}", f"vs-gen{opponent:03d}"
    if not other.exists():
        raise FileNotFoundError(f"{other}: no such model")
    m = _arena(cfg, model, other, (f"gen{last}", key[3:]), games, out / folder, seed=12345, visits=visits)
    res[key] = entry(m["score"], m["games"])
    progress(f"gen{last} {key.replace('_', ' ')}: {m['score']:g}/{m['games']}")
    if gnugo_levels and Path(GNUGO).exists():
        for level in gnugo_levels:
            r = _gnugo_match(cfg, model, f"gen{last}", level, gnugo_games, visits, parallel, out / f"vs-gnugo-L{level}")
            res[f"vs_gnugo_L{level}"] = entry(r["score"], r["games"])
            progress(f"gen{last} vs GNU Go level {level}: {r['score']:g}/{r['games']}")
    summary = out / "summary.json"
    if summary.exists():  # earlier evaluations of this generation (other opponents) stay
        old = json.loads(summary.read_text())
        if old.get("generation") == last and old.get("visits") == visits:
            res = {**old, **res}
    atomic_write_bytes(summary, json.dumps(res, indent=1).encode())
    return res


def report(run: str | Path, png: str | Path | None = None) -> str:
    """A table of the generations and a PNG of rating against games played and hours."""
    run = Path(run)
    recs = []
    while (r := _state(run, len(recs))) is not None:
        recs.append(r)
    if not recs:
        raise ValueError(f"{run}: no finished generation")
    lines = [f"{'gen':>4} {'rating':>8} {'games':>7} {'hours':>6}  vs best     GNU Go"]
    for r in recs:
        vs = r.get("vs_best")
        gg = " ".join(f"L{k}: {v['score']:g}/{v['games']}" for k, v in r.get("gnugo", {}).items())
        lines.append(f"{r['generation']:>4} {r['rating']:>8.0f} {r['games']:>7} {r['seconds'] / 3600:>6.2f}  "
                     f"{(str(vs['score']) + '/' + str(vs['games'])) if vs else '-':>11}  {gg}")
    text = "\n".join(lines)
    png = Path(png) if png else run / "rating.png"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    ratings = [r["rating"] for r in recs]
    a1.plot([r["games"] for r in recs], ratings, marker="o")
    a1.set_xlabel("self-play games")
    a1.set_ylabel("Elo (generation 0 = 0)")
    a2.plot([r["seconds"] / 3600 for r in recs], ratings, marker="o")
    a2.set_xlabel("hours")
    fig.suptitle(f"tengen loop {run.name}")
    fig.tight_layout()
    tmp = png.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(png)
    return text + f"\nplot: {png}"


if __name__ == "__main__":  # a training process under torchrun, started by _train
    _train_process(sys.argv[1], "--resume" in sys.argv[2:])
