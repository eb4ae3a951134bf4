# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CORPUS := .cache/feedparser-tests

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "aggregator needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/aggregator --config config run

# feedparser's own test corpus (about 2,300 feeds) ships in its source distribution; the robustness
# test serves every file of it through the pipeline. Fetched from the package registry at install time.
$(CORPUS)/.done: $(STAMP)
	rm -rf .cache/fp-sdist $(CORPUS) && mkdir -p .cache/fp-sdist $(CORPUS)
	$(BIN)/python -m pip download --quiet --no-binary :all: --no-deps -d .cache/fp-sdist \
		"feedparser==$$($(BIN)/python -c 'import feedparser; print(feedparser.__version__)')"
	tar xzf .cache/fp-sdist/feedparser-*.tar.gz -C $(CORPUS) --strip-components=2 --wildcards '*/tests/*'
	touch $@

test: $(STAMP) $(CORPUS)/.done
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check aggregator tests bench
	$(BIN)/ruff format --check aggregator tests bench
	$(BIN)/mypy aggregator --ignore-missing-imports

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .cache
