# Two entry points (see README): `make book` and `make test`.
# Both create .venv from the pinned requirements when it is missing or older than
# requirements.txt / pyproject.toml (tools/setup_venv.py), and check the Debian packages
# that what they run needs (tools/setup-system.sh: installed with apt-get when run as root
# or with password-less sudo; otherwise named, with the apt-get line). No root is needed
# for the book. When nothing changed they cost ~0 s.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: book test setup clean lint

book: $(STAMP)
	@bash tools/setup-system.sh book
	$(PY) -m tools.build_book

test: $(STAMP)
	@bash tools/setup-system.sh test
	$(PY) -m pytest

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml tools/setup_venv.py
	@$(PYTHON) tools/setup_venv.py $(VENV)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf _build .pytest_cache
