#!/usr/bin/env bash
# The checks that need a GPU, for a session lent one (at most 10 minutes, each step under a timeout):
# training on CUDA eagerly and with torch.compile (bf16 autocast), the bundled network's metrics on
# the same positions on CUDA and on the CPU (they must agree), inference speed, genmove latency.
#
#   bash bench/gpu_check.sh DATA SGF_DIR OUT
#
# DATA is a `tengen data build` folder (train/ and val/), SGF_DIR holds 19x19 records for genmove.
set -u
DATA=$1; SGF=$2; OUT=$3
export PYTHONUNBUFFERED=1
NET=$(python3 -c "from policy.modelfile import BUNDLED; print(BUNDLED)")  # the bundled network, named in one place
mkdir -p "$OUT"
python3 -c "import torch, numba, numpy, os; print('torch', torch.__version__, torch.cuda.get_device_name(0), 'numba', numba.__version__, 'numpy', numpy.__version__, 'cpus', os.cpu_count())"
for mode in eager compile; do
  flag=; [ $mode = compile ] && flag=--compile
  echo "== train $mode"
  timeout 110 python3 -m tengen_cli train "$DATA/train" --val "$DATA/val" --out "$OUT/train-$mode" --steps 400 \
    --batch-size 256 --optimizer adamw --lr 2e-3 --eval-every 400 --eval-positions 5000 --device cuda $flag \
    > "$OUT/train-$mode.log" 2>&1; echo "rc=$?"
  grep -v '^\s*$' "$OUT/train-$mode.log" | tr '\r' '\n' | grep -iv "it/s\]" | tail -5
  tail -n 3 "$OUT/train-$mode/metrics.jsonl"
done
for dev in cuda cpu; do
  echo "== eval $dev"
  timeout 60 python3 -m tengen_cli eval "$NET" "$DATA/val" --limit 20000 --device $dev
done
echo "== infer"
timeout 60 python3 bench/infer.py --model "$NET" --repeats 3 --batches 1 8 64 256 1024
echo "== genmove cuda"
timeout 120 python3 bench/genmove.py --sgf "$SGF" --positions 5 --visits 1 800 --device cuda
echo "== genmove cpu"
timeout 60 python3 bench/genmove.py --sgf "$SGF" --positions 5 --visits 800 --device cpu
