# The two commands a new user needs: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export QDRANT_PATH ?= $(CURDIR)/.qdrant

.PHONY: install demo dev test test-fast bench screenshot docs gateway lock clean

$(INSTALLED): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,gateway]'
	touch $(INSTALLED)

install: $(INSTALLED)

demo: install
	$(BIN)/tagging-assets demo

dev: install
	mkdir -p $(DAGSTER_HOME)
	[ -f $(DAGSTER_HOME)/dagster.yaml ] || cp tagging_assets/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/tagging-assets gateway & gateway=$$!; trap 'kill $$gateway' EXIT INT TERM; \
	  $(BIN)/dagster dev -w workspace.yaml

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n auto --dist loadgroup

test-fast: install
	$(BIN)/python -m pytest -q -n auto --dist loadgroup -m "not subprocess"

bench: install
	$(BIN)/python benchmarks/gateway_throughput.py
	$(BIN)/python benchmarks/realtime.py
	$(BIN)/python benchmarks/pipeline.py
	$(BIN)/python benchmarks/limits.py
	$(BIN)/python benchmarks/sensor_tick.py
	$(BIN)/python benchmarks/cli_speed.py
	$(BIN)/python benchmarks/disk_bytes.py
	$(BIN)/python benchmarks/token_counts.py
	$(BIN)/python benchmarks/tagger_quality.py
	$(BIN)/python benchmarks/demo_cost.py
	$(BIN)/python benchmarks/vocabulary.py

screenshot: install
	TAGGING_SCREENSHOT_DIR=$(CURDIR)/docs $(BIN)/python -m pytest -q tagging_assets_tests/integration/test_ui.py

docs: install
	$(BIN)/python -m tagging_assets.cli.reference docs/configuration.md

gateway: install
	$(BIN)/tagging-assets gateway

lock: install
	{ echo '# Exact versions for make install: pip install -c requirements.lock -e ".[dev,gateway]". Regenerate with make lock.'; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^tagging-assets'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) .gateway .tagging .qdrant .dagster_home .pytest_cache .ruff_cache .mypy_cache .hypothesis
