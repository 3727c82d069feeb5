# Tamga: `make run` serves the site, `make test` runs lint and the whole test suite.
# Both install what they need first: Debian packages (as root or with sudo), a
# .venv with the project, compiled translations and, for `run`, the database.

SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
# The served address is the base of every link when TAMGA_BASE_URL is unset.
export HOST PORT
TEST_WORKERS ?= 2

RUN_PACKAGES := libchromaprint-tools libchromaprint1 ffmpeg fonts-dejavu-core
TEST_PACKAGES := $(RUN_PACKAGES) chromium sox espeak-ng poppler-utils fluidsynth fluid-soundfont-gm \
                 libimage-exiftool-perl

PO_FILES := $(wildcard registry/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test install install-test lint translations-update serve-gunicorn clean

run: install
	$(FLASK) db upgrade
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(TEST_WORKERS)

install: $(VENV)/.system-run $(VENV)/.installed $(MO_FILES)

install-test: install $(VENV)/.installed-dev $(VENV)/.system-test

# Debian packages: installed with apt when we are root or may sudo; otherwise
# the exact command to run is printed and the target fails.
define apt_install
	@missing=""; \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo"; \
	  else echo "Tamga needs these system packages:$$missing"; \
	       echo "Please run: sudo apt-get install -y$$missing"; exit 1; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing </dev/null; \
	fi
endef

$(VENV)/.system-run: Makefile
	$(call apt_install,$(RUN_PACKAGES))
	@mkdir -p $(VENV) && touch $@

$(VENV)/.system-test: Makefile
	$(call apt_install,$(TEST_PACKAGES))
	@mkdir -p $(VENV) && touch $@

# The site alone needs no extras (SQLite, no Redis); the tests add PostgreSQL, Redis,
# gunicorn and the test tools. constraints.txt pins what the suite last passed with.
$(VENV)/.installed: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e .
	@touch $@

$(VENV)/.installed-production: $(VENV)/.installed
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[production]'
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $@

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel -q compile -i $< -o $@

# After changing user-visible strings: refresh the template and the catalogues.
translations-update: install
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k NP_:1c,2 --no-location --sort-output \
	  --project Tamga -o registry/translations/messages.pot .
	$(BIN)/pybabel -q update -i registry/translations/messages.pot -d registry/translations \
	  --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python registry/translations/fill_english.py

serve-gunicorn: install $(VENV)/.installed-production
	$(FLASK) db upgrade
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) app:app

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
