# Notice archive: `make run` installs, indexes the demo corpus and serves the UI;
# `make test` installs everything the tests need (including a headless Chromium) and runs them.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
INDEX_DIR ?= index
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-dev browser index serve bench clean-index

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian's Chromium for the end-to-end tests (Playwright's own browser download does not
# work offline). Needs root or sudo; skipped when /usr/bin/chromium is already there.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

index: $(VENV)/.installed
	$(PY) -m indexer build samples --index $(INDEX_DIR) --prune

serve: $(VENV)/.installed
	$(PY) -m indexer serve --index $(INDEX_DIR) --host $(HOST) --port $(PORT)

run: index serve

test: $(VENV)/.installed-dev browser
	$(PY) -m pytest -q

bench: $(VENV)/.installed-dev
	$(PY) -m bench.run --sizes 2000

clean-index:
	rm -rf $(INDEX_DIR)/MAIN_* $(INDEX_DIR)/_MAIN_* $(INDEX_DIR)/ARCHIVE_VERSION
