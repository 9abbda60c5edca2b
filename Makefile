# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# CPU build of torch pinned in the install step only (not a library requirement),
# so a machine without a GPU never downloads CUDA wheels.
TORCH_PIN ?= torch==2.13.0

.PHONY: demo test install install-test lint clean gpu-bundle

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "$(TORCH_PIN)"
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
