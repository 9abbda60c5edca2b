# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# PyTorch is pinned in the install step only (not a library requirement). This project's
# machines hold a CPU wheel of torch 2.13.0, which pip takes. Elsewhere, PyPI's Linux wheel
# is the CUDA build (GBs): TORCH_INDEX=https://download.pytorch.org/whl/cpu takes the CPU one.
TORCH_PIN ?= torch==2.13.0
TORCH_INDEX ?=

.PHONY: demo test install install-test lint clean gpu-bundle

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH_PIN)"
	$(BIN)/pip install --quiet -e . "$(TORCH_PIN)"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]" "$(TORCH_PIN)"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# The main job: the top-tagging landscape at detector level, sized for a 2-core CPU.
demo: install
	$(BIN)/heplearn landscape top --quick --out runs/landscape

test: install-test
	$(BIN)/python -m pytest -q

lint: install-test
	$(BIN)/ruff check .

# For a session lent a GPU: the packages benchmarks/gpu_check.sh needs that the device lacks.
gpu-bundle: install
	bash benchmarks/gpu_bundle.sh

clean:
	rm -rf $(VENV) runs .gpu-deps
