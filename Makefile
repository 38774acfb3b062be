# geosim: `make run` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench venv clean viz

# Find a Python >= 3.12: python3.13, python3.12, python3, then pyenv's versions.
define FIND_PYTHON
for c in python3.13 python3.12 python3; do \
  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then command -v $$c; exit 0; fi; \
done; \
if command -v pyenv >/dev/null 2>&1; then \
  for v in $$(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])' | sort -rV); do \
    p="$$(pyenv root)/versions/$$v/bin/python3"; \
    if [ -x "$$p" ]; then echo "$$p"; exit 0; fi; \
  done; \
fi; \
echo "error: geosim needs Python >= 3.12; none found (tried python3.13, python3.12, python3, pyenv)" >&2; exit 1
endef

$(STAMP): pyproject.toml
	@set -e; if [ ! -x $(PY) ]; then \
	  PYTHON="$$( $(FIND_PYTHON) )"; \
	  echo "creating $(VENV) with $$PYTHON"; \
	  "$$PYTHON" -m venv $(VENV); \
	fi
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[viz,dev]'
	@touch $(STAMP)

venv: $(STAMP)

# The main job: the engine demo, the 2012-2023 back-test, then the pivot scenario against the
# baseline, compared over five seeds with the Shapley decomposition of the pivot's effect and
# over 200 parameter draws (compare --draws: about 1.5 minutes on two cores).
run: $(STAMP)
	$(VENV)/bin/geosim demo
	$(VENV)/bin/geosim backtest --seed 1 --out results/backtest
	$(VENV)/bin/geosim run baseline --seed 1 --out results/baseline
	$(VENV)/bin/geosim run pivot --seed 1 --out results/pivot
	$(VENV)/bin/geosim compare results/baseline results/pivot --seeds 1 2 3 4 5 --decompose \
	  --draws 200 --out results/pivot_vs_baseline

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/one_sector_solve.py
	$(PY) benchmarks/run.py
	$(PY) benchmarks/sweep.py

viz: $(STAMP)
	$(VENV)/bin/geosim viz

clean:
	rm -rf $(VENV) results/*
