# Everything bootstraps itself on a fresh Debian machine with Python 3.11:
# a virtualenv in .venv, dependencies from requirements.lock, the system Chromium for browser checks.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run serve test corpus bench browser clean

# The conformance suite against the embedded mock: writes reports/<UTC timestamp>/ (reports/latest
# points at it) and prints where. Exit 1 when a rule failed; see README "Running the conformance suite".
# The UI rules are read in Chromium, so the first command on a fresh machine installs it too.
run: $(STAMP) browser
	$(BIN)/canvas-conformance run

serve: $(STAMP)
	$(BIN)/canvas-conformance serve

# pytest exits 5 when it collected no test, so make fails when nothing ran (with -n too).
# Tests spread over one process per core (pytest-xdist, pinned in requirements.lock): every test
# binds its own free ports and writes under its own tmp_path, so none depends on another's order.
TEST_FLAGS ?= -n auto --dist worksteal
test: $(STAMP) browser
	$(BIN)/python -m pytest $(TEST_FLAGS)

# The mutation corpus and the allowed variants (tests/suite/corpus.py): the whole API suite once per
# breakage or variant, so it runs apart from make test (about 25 s a case on 2 cores; make test keeps a
# seeded sample, test_misbehaving.py), and the runs beside other writers (test_isolation.py, four runs);
# then every canvas-current UI breakage and variant against the profile's whole UI suite (about 35 s a case).
# Each API verdict is recorded in CORPUS_RECORD; tests/suite/CATCH_TABLE.md is then written from them
# (python -m tests.suite.catch_table). CORPUS_FLAGS=-n2 runs two cases at once on an idle box.
CORPUS_RECORD ?= reports/corpus-verdicts.jsonl
corpus: $(STAMP) browser
	mkdir -p $(dir $(CORPUS_RECORD)) && rm -f $(CORPUS_RECORD)
	CANVAS_CORPUS=1 CANVAS_SHARED_TARGET_TEST=1 CATCH_TABLE_RECORD=$(abspath $(CORPUS_RECORD)) $(BIN)/python -m pytest \
	  tests/suite/test_misbehaving.py tests/suite/test_variations.py tests/suite/test_isolation.py \
	  -k "breakage_is_failed or each_allowed_variant or other_writers" $(CORPUS_FLAGS); \
	  status=$$?; $(BIN)/python -m tests.suite.catch_table --from $(CORPUS_RECORD) --write tests/suite/CATCH_TABLE.md \
	  --how "The verdicts were recorded by \`make corpus\` ($$(uptime | sed 's/.*load average/load average/') at its end, $$(nproc) cores)."; \
	  exit $$status
	CANVAS_CORPUS=1 $(BIN)/python -m pytest tests/uichecks/test_in_browser.py -k "canvas-current or real_canvas"

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# Benchmarks of the mock (bench/run.py, writes bench/RESULTS.md; installs Debian's wrk when missing):
# granian, gunicorn, waitress and a bare Flask app side by side, then scale and a profile of create;
# then the suite's wall time when bench/suite_walltime.py is there. A few minutes; nothing is asserted.
bench: $(STAMP)
	$(BIN)/python bench/run.py
	@if [ -f bench/suite_walltime.py ]; then $(BIN)/python bench/suite_walltime.py; fi

# The browser checks drive Debian's Chromium; Playwright's own browser download is not used.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  echo "installing Debian's chromium (browser checks of the UI rules)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

clean:
	rm -rf $(VENV) build *.egg-info
