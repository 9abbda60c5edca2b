#!/usr/bin/env bash
# The GPU checks of the landscape issue, as one prepared run for a session lent a device:
#   1. every torch model's default preset trains and infers on the device under bf16
#      autocast (finite loss), with its jets/s, and ParticleNet/ParT interleaved against
#      weaver-core;
#   2. the engine end to end (`heplearn train`, precision auto = bf16-mixed on CUDA, then
#      the test-set evaluation) for ParT and ParticleNet at their default presets; on one
#      GPU Lightning runs this as DDP (NCCL) with one rank;
#   3. the precise-BatchNorm pooling over two DDP ranks with the statistics on CUDA (NCCL
#      with a GPU per rank where there are two; on one GPU, gloo on CUDA tensors, since
#      NCCL takes one rank per GPU), the test that runs on CPU everywhere else.
#
# Here, once:   make gpu-bundle     (the packages the device image lacks, for its Python 3.12)
# On the device (repository root, carry .gpu-deps and the dataset):
#   bash benchmarks/gpu_check.sh [DATASET_DIR]     (default data/top-atlas-like-30000-seed1)
# Writes gpu_check.log and the runs' metrics-MODEL.json to $OUT (or /tmp/gpu-check), the runs
# themselves to $RUNS (or /tmp/gpu-check-runs). An estimated 5-8 min on an H200 (not yet
# run on one). A failing step is
# reported and the next one still runs; the exit status is 1 if any failed.
# To try it on a CPU: PYTHON=.venv/bin/python DEVICE=cpu BENCH="--models pfn --rounds 2" \
#   TRAIN=pfn bash benchmarks/gpu_check.sh
# and with only the packages the device will have: benchmarks/device_image/sitecustomize.py.
set -uo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-data/top-atlas-like-30000-seed1}
OUT=${OUT:-/tmp/gpu-check}
RUNS=${RUNS:-/tmp/gpu-check-runs}
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
BENCH=${BENCH:---rounds 20}
TRAIN=${TRAIN:-part particlenet}
mkdir -p "$OUT" "$RUNS"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
# the bundle holds CPython 3.12 builds (the device's interpreter): only for a 3.12 Python
if "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then
    PYTHONPATH="$PYTHONPATH:$PWD/.gpu-deps"
fi

checks() {
    local rc=0
    "$PY" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.cuda.is_available())"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true

    echo "== 1. every model's default preset on $DEVICE, bf16 autocast"
    # shellcheck disable=SC2086
    "$PY" benchmarks/bench_models.py --device "$DEVICE" --bf16 --batch 512 --presets default \
        $BENCH || { echo "!! step 1 failed"; rc=1; }

    echo "== 2. heplearn train on $DEVICE (precision auto), default presets, 5 epochs"
    for model in $TRAIN; do
        local start
        start=$(date +%s)
        if "$PY" -m heplearn train "$DATA" --model "$model" --preset default --epochs 5 \
            --batch-size 512 --accelerator "$DEVICE" --out "$RUNS/$model"; then
            echo "$model: $(($(date +%s) - start)) s wall"
            cp "$RUNS/$model/metrics.json" "$OUT/metrics-$model.json"
        else
            echo "!! step 2 failed for $model"
            rc=1
        fi
    done

    echo "== 3. precise-BatchNorm statistics pooled over two DDP ranks, on $DEVICE"
    # -W default: a warning from the device's library versions is shown, not an error
    "$PY" -m pytest tests/training/test_engine.py -q -p no:cacheprovider -W default \
        -k "pooled_over_ddp_ranks" || { echo "!! step 3 failed"; rc=1; }
    return $rc
}

checks 2>&1 | tee "$OUT/gpu_check.log"
