# KOMPOR DESA backend. `make run` starts it; `make test` checks it.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test lint format bench test-reliability test-cluster test-fuzz audit clean

$(BIN)/nameko: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/nameko

install: $(BIN)/nameko

run: install
	$(BIN)/python -m services.run

test: install
	$(BIN)/python -m tests.parallel $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check services tests bench
	$(BIN)/ruff format --check services tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix services tests bench
	$(BIN)/ruff format services tests bench

# the performance targets in one table (load by wrk where installed: `apt-get install wrk`;
# a quick look: make bench BENCH_ARGS="--rounds 1 --seconds 3")
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

test-reliability: install
	$(BIN)/python -m pytest tests/reliability -p no:randomly

# three RabbitMQ nodes of its own, joined, quorum queues; kills nodes under load
test-cluster: install
	$(BIN)/python -m pytest tests/cluster -p no:randomly

# the API fuzzed from its own OpenAPI document: a few thousand cases, fixed seed
test-fuzz: install
	KOMPOR_FUZZ_EXAMPLES=$${KOMPOR_FUZZ_EXAMPLES:-10} $(BIN)/python -m pytest tests/fuzz \
		-p no:randomly --timeout=3600 $(PYTEST_ARGS)

# known vulnerabilities in the installed dependency set; needs the advisory database
# online, and --strict fails rather than call a package it could not look up clean
audit: install
	$(BIN)/pip-audit --strict --skip-editable

clean:
	rm -rf $(VENV) var *.egg-info
