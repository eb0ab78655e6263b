"""Self-play on a Ray cluster: workers as actors on any number of machines (``pip install .[distributed]``).

The driver keeps the run folder; actors need no shared file system. Each actor
receives the network's bytes once per call, plays a chunk of games with
``play_games`` into a private temporary folder and sends the finished games'
files back; the driver writes them into the run folder, atomically, as each
chunk arrives. A lost actor loses only its chunk in progress, which Ray
retries on another actor (``max_task_retries``); a rerun resumes by counting
the games already written, as ``run_selfplay`` does.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import asdict
from pathlib import Path

from go_engine.atomic import atomic_write_bytes, folder_lock

from .selfplay import SelfPlayConfig, load_stats, summarize


def _require_ray():
    try:
        import ray
    except ImportError:
        raise RuntimeError("distributed self-play needs Ray: pip install '.[distributed]'") from None
    return ray


def connect_ray(address: str | None = None, num_cpus: int | None = None):
    """Join the Ray cluster at ``address`` ("auto": the one started by ``ray start`` here), or start a
    local one with ``num_cpus`` when ``address`` is None; returns the ``ray`` module."""
    ray = _require_ray()
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    return ray


class SelfPlayWorker:
    """One self-play process (a Ray actor): the network stays loaded between chunks of the same model."""

    def __init__(self, threads: int = 1, device: str = "cpu") -> None:
        import torch

        torch.set_num_threads(threads)
        self.device = device
        self.key: str | None = None
        self.evaluator = None

    def play(self, key: str, model: bytes | None, cfg: dict, games: int, prefix: str, seed: int) -> dict[str, bytes]:
        """Play ``games`` games with the network in ``model`` (the bytes of a model file; None: uniform)."""
        from .selfplay import make_evaluator, play_games

        with tempfile.TemporaryDirectory(prefix="tengen-sp-") as tmp:
            if key != self.key:
                path = None
                if model is not None:
                    path = os.path.join(tmp, "model.pt")
                    Path(path).write_bytes(model)
                self.evaluator = make_evaluator(path or "none", self.device)
                self.key = key
            play_games(self.evaluator, SelfPlayConfig(**cfg), games, tmp, prefix, seed=seed)
            return {f.name: f.read_bytes() for f in sorted(Path(tmp).iterdir())
                    if f.suffix in (".sgf", ".npz", ".json")}


def run_selfplay_ray(model: str | None, cfg: SelfPlayConfig, games: int, out: str | Path, actors: int = 2,
                     chunk: int | None = None, seed: int = 0, threads: int = 1, progress=print) -> dict:
    """Play until ``out`` holds ``games`` finished games, on ``actors`` Ray actors of the running cluster.

    Starts a local cluster when none is connected. ``chunk`` games per task
    (default: ``cfg.parallel``, one batch of games in progress). ``model``:
    a model file, or None for uniform priors."""
    ray = connect_ray(num_cpus=actors)
    with folder_lock(out, "self-play run"):
        return _run_on_actors(ray, model, cfg, games, Path(out), actors, chunk, seed, threads, progress)


def _run_on_actors(ray, model: str | None, cfg: SelfPlayConfig, games: int, out: Path, actors: int,
                   chunk: int | None, seed: int, threads: int, progress) -> dict:
    todo = games - len(load_stats(out))
    if todo <= 0:
        return summarize(load_stats(out))
    chunk = chunk or cfg.parallel
    sizes = [min(chunk, todo - k) for k in range(0, todo, chunk)]
    from policy.modelfile import resolve_model

    path = resolve_model(model)  # as run_selfplay: None is the bundled network, "none" uniform priors
    data = Path(path).read_bytes() if path else None
    key = uuid.uuid4().hex
    ref = ray.put(data)
    remote = ray.remote(num_cpus=threads, max_restarts=2, max_task_retries=2)(SelfPlayWorker)
    pool = [remote.remote(threads) for _ in range(max(1, min(actors, len(sizes))))]
    run_id = uuid.uuid4().hex[:10]
    pending = {}
    queue = list(enumerate(sizes))
    cfg_dict = asdict(cfg)

    def submit(actor) -> None:
        i, n = queue.pop(0)
        task = actor.play.remote(key, ref, cfg_dict, n, f"sp-{run_id}-c{i:04d}", seed * 100003 + i)
        pending[task] = actor

    for actor in pool:
        if queue:
            submit(actor)
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        task = ready[0]
        actor = pending.pop(task)
        files = ray.get(task)
        # the statistics last: a game counts as done once its .json exists
        for name in sorted(files, key=lambda f: f.endswith(".json")):
            atomic_write_bytes(out / name, files[name])
        progress(f"{sum(f.endswith('.json') for f in files)} games from a worker")
        if queue:
            submit(actor)
    for actor in pool:
        ray.kill(actor)
    return summarize(load_stats(out))
