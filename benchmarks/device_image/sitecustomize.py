"""Makes this environment import like the GPU device's image with `make gpu-bundle` added:
the packages that image lacks, and the bundle does not bring, fail to import. For a dry
run of ``benchmarks/gpu_check.sh`` on a CPU before spending device time:

    PYTHONPATH=benchmarks/device_image PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 \
        PYTHON=.venv/bin/python DEVICE=cpu BENCH="--models pfn --rounds 2" TRAIN=pfn \
        bash benchmarks/gpu_check.sh

The list is this environment's packages minus the image's (the device tool's package list
of 2026-11-17) and the bundle's (``benchmarks/gpu_bundle.sh``), as import names. Python's
version (3.12 there) and torch's and Lightning's versions are not simulated.
"""

import importlib.abc
import sys

MISSING_ON_DEVICE = frozenset(
    {
        "blosc2",
        "boost_histogram",
        "cramjam",
        "dask",
        "distributed",
        "fastjet",
        "h2",
        "hepunits",
        "hist",
        "histoprint",
        "hpack",
        "hyperframe",
        "jsonpatch",
        "jsonpointer",
        "jsonschema",
        "locket",
        "ndindex",
        "numexpr",
        "partd",
        "particle",
        "pyhf",
        "pythia8",
        "referencing",
        "rpds",
        "tables",
        "tblib",
        "tornado",
        "tzdata",
        "uproot",
        "vector",
        "xgboost",
        "zict",
    }
)


class _NotOnDevice(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in MISSING_ON_DEVICE:
            raise ModuleNotFoundError(f"{name!r} is not on the device image", name=name)
        return None


sys.meta_path.insert(0, _NotOnDevice())
