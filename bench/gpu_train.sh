#!/usr/bin/env bash
# The prepared device run: the most network a few minutes of a GPU can train, with its metrics.
#
# Two steps, because the device machine sees only the working tree (not ../shared):
#
#   here:        bash bench/gpu_train.sh pack runs/data19 runs/data9 gpu-data
#                  packs the shards of one or more `tengen data build`s (train/ and val/ each; the last
#                  argument is the pack folder) into gpu-data/data.tar.xz (git-ignored; about 29 MB for
#                  the whole 19x19 corpus and the 9x9 one) - carry it with the device call;
#   the device:  bash bench/gpu_train.sh train gpu-data "$OUT"
#                  unpacks, trains, evaluates each board size on its held-out games and leaves model.pt,
#                  metrics.jsonl, eval.json (the main size), eval-SIZE.json (every size), run.json and
#                  train.log in the output folder.
#
# Training has two phases when the pack holds more than one board size (the recipe of the bundled v5):
#   1. MINUTES on the main size alone (19x19 where the pack has it), from random weights;
#   2. MIX_MINUTES on all sizes from phase 1's network, MAIN_SHARE of the batches of the main size,
#      batch normalisation frozen at phase 1's statistics (statistics of mixed sizes fit neither), at
#      MIX_LR. With one size, or MIX_MINUTES=0, only phase 1 runs.
# Settings come from the environment (defaults for one H200 and about 9 minutes of device time):
#   MINUTES=4.5 BLOCKS=10 CHANNELS=128 BATCH=1024 LR=0.002 SAMPLE_RATE=0.5 WORKERS=(cores - 2)
#   MIX_MINUTES=1 MAIN_SHARE=0.7 MIX_LR=0.0005
#   DEVICE=auto COMPILE=1 (torch.compile where CUDA is there) EVAL_POSITIONS=60000 PYTHON=python3
# The test suite runs the same script end to end on the CPU with tiny settings (tests/test_gpu_run.py).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY="${PYTHON:-python3}"
usage="usage: gpu_train.sh pack DATA_DIR... PACK_DIR | train PACK_DIR OUT_DIR"

case "${1:-}" in
pack)
  [ $# -ge 3 ] || { echo "$usage" >&2; exit 2; }
  shift
  sources=("${@:1:$#-1}")
  dest="${*: -1}"
  parts=()
  for src in "${sources[@]}"; do
    for d in train val; do
      [ -d "$src/$d" ] || { echo "gpu_train.sh: $src/$d: no such folder (a tengen data build's output?)" >&2; exit 2; }
    done
    parts+=(-C "$(cd "$src" && pwd)" train val)
  done
  mkdir -p "$dest"
  tar -cf - "${parts[@]}" | xz -T0 -6 > "$dest/data.tar.xz.tmp"
  mv "$dest/data.tar.xz.tmp" "$dest/data.tar.xz"
  echo "packed $(du -h "$dest/data.tar.xz" | cut -f1) of $(tar -tJf "$dest/data.tar.xz" | grep -c '\.npz$') shards into $dest/data.tar.xz"
  ;;
train)
  pack="${2:?$usage}"
  out="${3:?$usage}"
  [ -f "$pack/data.tar.xz" ] || { echo "gpu_train.sh: $pack/data.tar.xz: no such file (run pack first)" >&2; exit 2; }
  mkdir -p "$out"
  start=$(date +%s)
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  xz -dc "$pack/data.tar.xz" | tar -C "$work" -xf -
  mapfile -t sizes < <(cd "$work/train" && ls -d [0-9]*x[0-9]* 2>/dev/null | sort -t x -k1,1nr)
  [ ${#sizes[@]} -gt 0 ] || { echo "gpu_train.sh: $pack/data.tar.xz: no board-size folders under train/" >&2; exit 2; }
  main="${sizes[0]}"  # the largest board
  cores=$(nproc)
  workers="${WORKERS:-$(( cores > 3 ? cores - 2 : 1 ))}"
  compile=()
  if [ "${COMPILE:-1}" = 1 ]; then compile=(--compile); fi
  common=(--steps 100000000 --batch-size "${BATCH:-1024}" --sample-rate "${SAMPLE_RATE:-0.5}" --optimizer adamw
          --weight-decay 0.01 --eval-every "${EVAL_EVERY:-2000}" --eval-positions 8192 --loader-workers "$workers"
          --device "${DEVICE:-auto}" --force "${compile[@]}")
  phase() {  # phase NAME ARGS...: one `tengen train`, its log cleaned of progress bars into $out/NAME.log
    local name="$1" status=0
    shift
    "$PY" -m tengen_cli train "$@" "${common[@]}" > "$work/$name.log" 2>&1 || status=$?
    tr '\r' '\n' < "$work/$name.log" | sed '/^ *[0-9]*%|/d' > "$out/$name.log"
    if [ "$status" != 0 ]; then tail -20 "$out/$name.log" >&2; exit 1; fi
  }
  phase train "$work/train/$main" --val "$work/val/$main" --out "$work/run" --minutes "${MINUTES:-4.5}" \
    --blocks "${BLOCKS:-10}" --channels "${CHANNELS:-128}" --lr "${LR:-0.002}" --warmup "${WARMUP:-300}" --seed 11
  cp "$work/run/metrics.jsonl" "$out/"
  final="$work/run/model.pt"
  if [ ${#sizes[@]} -gt 1 ] && [ "${MIX_MINUTES:-1}" != 0 ]; then
    phase train-mix "$work/train" --val "$work/val" --out "$work/mix" --init "$final" --freeze-norm \
      --size-share "${main%%x*}=${MAIN_SHARE:-0.7}" --minutes "${MIX_MINUTES:-1}" --lr "${MIX_LR:-0.0005}" \
      --warmup "${MIX_WARMUP:-50}" --seed 12
    cp "$work/mix/metrics.jsonl" "$out/metrics-mix.jsonl"
    cp "$work/run/model.pt" "$out/model-$main.pt"
    final="$work/mix/model.pt"
  fi
  cp "$final" "$out/model.pt"
  for size in "${sizes[@]}"; do
    [ -d "$work/val/$size" ] || continue
    "$PY" -m tengen_cli eval "$out/model.pt" "$work/val/$size" --limit "${EVAL_POSITIONS:-60000}" \
      --device "${DEVICE:-auto}" > "$out/eval-$size.json"
  done
  cp "$out/eval-$main.json" "$out/eval.json"
  end=$(date +%s)
  "$PY" - "$out" "$start" "$end" "$workers" "$main" "$work/run/model.pt" <<'PYEOF'
import json, platform, sys
from pathlib import Path
import torch
from policy.modelfile import load_model
out, start, end, workers, main, first = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]


def phase(model: str, metrics: Path) -> dict:
    """Steps, positions and speed of one training phase, from its model file and metrics."""
    t = load_model(model)[1].training
    rows = [json.loads(x) for x in metrics.open() if '"pos_per_s"' in x]
    speeds = sorted(r["pos_per_s"] for r in rows[len(rows) // 4:])  # after warm-up and compilation
    return {"steps": t["steps"], "positions": t["positions"], "train_seconds": t["seconds"],
            "median_pos_per_s": speeds[len(speeds) // 2] if speeds else t["positions"] / max(1e-9, t["seconds"])}


info = load_model(str(out / "model.pt"))[1]
run = {"seconds": end - start, "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else platform.processor(),
       "torch": torch.__version__, "loader_workers": workers, "network": f"{info.config.blocks}x{info.config.channels}",
       **phase(first, out / "metrics.jsonl"), "main_size": main,
       "eval": json.load(open(out / "eval.json")),
       "eval_by_size": {p.stem[len("eval-"):]: json.load(p.open()) for p in sorted(out.glob("eval-*.json"))}}
if (out / "metrics-mix.jsonl").exists():
    run["mix"] = phase(str(out / "model.pt"), out / "metrics-mix.jsonl")
json.dump(run, open(out / "run.json", "w"), indent=1)
print(json.dumps(run))
PYEOF
  ;;
*)
  echo "$usage" >&2
  exit 2
  ;;
esac
