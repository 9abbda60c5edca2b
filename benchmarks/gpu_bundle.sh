#!/usr/bin/env bash
# .gpu-deps/: what benchmarks/gpu_check.sh needs that the device image lacks (its python3 is
# CPython 3.12 on x86-64 with torch, lightning, numpy, pyarrow, pandas and matplotlib, and
# no package registry), at this environment's versions, plus weaver-core's reference models
# (fsspec and zipp, which awkward and importlib_metadata need, are in the image).
# Run here (`make gpu-bundle`); carry .gpu-deps to the device. About 17 MB: mplhep_data's
# fonts (18 MB) are left out to keep the carried tree under 64 MiB with the 27 MB dataset;
# on the device the plots fall back to matplotlib's fonts.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP=${PIP:-.venv/bin/pip}
names='pydantic|pydantic[-_]core|annotated[-_]types|typing[-_]inspection|awkward|awkward[-_]cpp'
names+='|mplhep|mplhep[-_]data|uhi|lazy[-_]importer|importlib[-_]metadata|lgatr'
pins=$("$PIP" freeze | grep -iE "^($names)==")
rm -rf .gpu-deps
# shellcheck disable=SC2086
"$PIP" install --quiet --no-compile --target .gpu-deps --no-deps --only-binary=:all: \
    --python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform any \
    $pins weaver-core==0.5.3
rm -rf .gpu-deps/bin .gpu-deps/mplhep_data/fonts/*
du -sh .gpu-deps
