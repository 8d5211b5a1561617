# Two entry points (see README): `make book` and `make test`.
# Both create .venv from the pinned requirements when it is missing or older
# than requirements.txt / pyproject.toml, and install the Debian packages the
# course needs (tools/setup-system.sh); when nothing changed they cost ~0 s.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: book test setup system clean lint

book: setup
	$(PY) -m tools.build_book

test: setup
	$(PY) -m pytest

setup: system $(STAMP)

system:
	@bash tools/setup-system.sh

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "The course needs Python 3.11; $(PYTHON) is another version (set PYTHON=...)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf _build .pytest_cache
