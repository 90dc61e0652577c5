# The two commands a new user needs: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install demo test lint bench gateway lock clean

$(INSTALLED): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

demo: install
	$(BIN)/python examples/gateway_quickstart.py

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/gateway_throughput.py

gateway: install
	$(BIN)/tagging-assets gateway

lock: install
	{ echo '# Exact versions for make install: pip install -c requirements.lock -e ".[dev]". Regenerate with make lock.'; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^tagging-assets'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) .gateway .pytest_cache .ruff_cache
