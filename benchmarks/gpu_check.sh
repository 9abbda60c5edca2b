#!/usr/bin/env bash
# The GPU checks of the landscape issue, as one prepared run for a session lent a device:
#   1. every torch model's default preset trains and infers on CUDA under bf16 autocast
#      (finite loss), with its jets/s, and ParticleNet/ParT interleaved against weaver-core;
#   2. the engine end to end on CUDA (`heplearn train`, precision auto = bf16-mixed, then
#      the test-set evaluation) for ParT and ParticleNet at their default presets.
#
# Here, once:   make gpu-bundle     (the packages the device image lacks, for its Python)
# On the device (repository root, carry .gpu-deps and the dataset):
#   bash benchmarks/gpu_check.sh [DATASET_DIR]     (default data/top-atlas-like-30000-seed1)
# DEVICE=cpu, BENCH="--models pfn --rounds 2" and TRAIN="pfn" try the script out on a CPU.
# Writes its log and the runs' metrics.json under $OUT (or /tmp/gpu-check), the runs
# themselves under $RUNS (or /tmp/gpu-check-runs). ~5-8 min on an H200.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-data/top-atlas-like-30000-seed1}
OUT=${OUT:-/tmp/gpu-check}
RUNS=${RUNS:-/tmp/gpu-check-runs}
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
BENCH=${BENCH:---rounds 20}
TRAIN=${TRAIN:-part particlenet}
mkdir -p "$OUT"
export PYTHONPATH="$PWD/src:$PWD/.gpu-deps" PYTHONUNBUFFERED=1
exec > >(tee "$OUT/gpu_check.log") 2>&1

"$PY" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.cuda.is_available())"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true

echo "== 1. models on CUDA, bf16 autocast, default presets"
# shellcheck disable=SC2086
"$PY" benchmarks/bench_models.py --device "$DEVICE" --bf16 --batch 512 --presets default $BENCH

echo "== 2. the engine on CUDA (bf16-mixed), default presets, 5 epochs"
for model in $TRAIN; do
    start=$(date +%s)
    "$PY" -m heplearn train "$DATA" --model "$model" --preset default --epochs 5 \
        --batch-size 512 --accelerator "$DEVICE" --out "$RUNS/$model"
    echo "$model: $(( $(date +%s) - start )) s wall"
    cp "$RUNS/$model/metrics.json" "$OUT/metrics-$model.json"
done
