#!/usr/bin/env bash
# The prepared device run: the most network a few minutes of a GPU can train, with its metrics.
#
# Two steps, because the device machine sees only the working tree (not ../shared):
#
#   here:        bash bench/gpu_train.sh pack runs/data19 gpu-data
#                  packs the shards of a `tengen data build` (train/ and val/) into gpu-data/data.tar.xz
#                  (git-ignored; about 28 MB for the whole 19x19 corpus) - carry it with the device call;
#   the device:  bash bench/gpu_train.sh train gpu-data "$OUT"
#                  unpacks, trains for $MINUTES, evaluates on the held-out games and leaves model.pt,
#                  metrics.jsonl, eval.json, run.json and train.log in the output folder.
#
# Settings come from the environment (defaults for one H200 and about 9 minutes of device time):
#   MINUTES=5.5 BLOCKS=10 CHANNELS=128 BATCH=1024 LR=0.002 SAMPLE_RATE=0.5 WORKERS=(cores - 2)
#   DEVICE=auto COMPILE=1 (torch.compile where CUDA is there) EVAL_POSITIONS=60000 PYTHON=python3
# The test suite runs the same script end to end on the CPU with tiny settings (tests/test_gpu_run.py).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY="${PYTHON:-python3}"

case "${1:-}" in
pack)
  src="${2:?usage: gpu_train.sh pack DATA_DIR PACK_DIR}"
  dest="${3:?usage: gpu_train.sh pack DATA_DIR PACK_DIR}"
  for d in train val; do
    [ -d "$src/$d" ] || { echo "gpu_train.sh: $src/$d: no such folder (a tengen data build's output?)" >&2; exit 2; }
  done
  mkdir -p "$dest"
  tar -C "$src" -cf - train val | xz -T0 -6 > "$dest/data.tar.xz.tmp"
  mv "$dest/data.tar.xz.tmp" "$dest/data.tar.xz"
  cp "$src/summary.json" "$dest/summary.json" 2>/dev/null || true
  echo "packed $(du -h "$dest/data.tar.xz" | cut -f1) into $dest/data.tar.xz"
  ;;
train)
  pack="${2:?usage: gpu_train.sh train PACK_DIR OUT_DIR}"
  out="${3:?usage: gpu_train.sh train PACK_DIR OUT_DIR}"
  [ -f "$pack/data.tar.xz" ] || { echo "gpu_train.sh: $pack/data.tar.xz: no such file (run pack first)" >&2; exit 2; }
  mkdir -p "$out"
  start=$(date +%s)
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  xz -dc "$pack/data.tar.xz" | tar -C "$work" -xf -
  cores=$(nproc)
  workers="${WORKERS:-$(( cores > 3 ? cores - 2 : 1 ))}"
  compile=()
  if [ "${COMPILE:-1}" = 1 ]; then compile=(--compile); fi
  "$PY" -m tengen_cli train "$work/train" --val "$work/val" --out "$work/run" --force \
    --minutes "${MINUTES:-5.5}" --steps 100000000 --blocks "${BLOCKS:-10}" --channels "${CHANNELS:-128}" \
    --batch-size "${BATCH:-1024}" --sample-rate "${SAMPLE_RATE:-0.5}" --optimizer adamw --lr "${LR:-0.002}" \
    --weight-decay 0.01 --warmup "${WARMUP:-300}" --eval-every "${EVAL_EVERY:-2000}" --eval-positions 8192 \
    --loader-workers "$workers" --device "${DEVICE:-auto}" --seed 11 "${compile[@]}" > "$work/train.log" 2>&1 \
    || status=$?
  tr '\r' '\n' < "$work/train.log" | sed '/^ *[0-9]*%|/d' > "$out/train.log"
  if [ "${status:-0}" != 0 ]; then tail -20 "$out/train.log" >&2; exit 1; fi
  cp "$work/run/model.pt" "$work/run/metrics.jsonl" "$out/"
  "$PY" -m tengen_cli eval "$out/model.pt" "$work/val" --limit "${EVAL_POSITIONS:-60000}" --device "${DEVICE:-auto}" \
    > "$out/eval.json"
  end=$(date +%s)
  "$PY" - "$out" "$start" "$end" "$workers" <<'EOF'
import json, platform, sys
import torch
from policy.modelfile import load_model
out, start, end, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
info = load_model(f"{out}/model.pt")[1]
train = [json.loads(x) for x in open(f"{out}/metrics.jsonl") if '"pos_per_s"' in x]
speeds = sorted(r["pos_per_s"] for r in train[len(train) // 4:])  # after warm-up and compilation
t = info.training
run = {"seconds": end - start, "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else platform.processor(),
       "torch": torch.__version__, "loader_workers": workers, "network": f"{info.config.blocks}x{info.config.channels}",
       "steps": t["steps"], "positions": t["positions"], "train_seconds": t["seconds"],
       "median_pos_per_s": speeds[len(speeds) // 2] if speeds else t["positions"] / max(1e-9, t["seconds"]),
       "eval": json.load(open(f"{out}/eval.json"))}
json.dump(run, open(f"{out}/run.json", "w"), indent=1)
print(json.dumps(run))
EOF
  ;;
*)
  echo "usage: bash bench/gpu_train.sh pack DATA_DIR PACK_DIR | train PACK_DIR OUT_DIR" >&2
  exit 2
  ;;
esac
