# Two commands do everything: `make demo` runs the final example
# daemonized, and `make test` checks the whole cookbook.

PYTHON ?= python3
VENV := .venv
BIN ?= $(VENV)/bin
PORT ?= 8080
AGENTS_PORT ?= 7001
LIVE := $(CURDIR)/examples/recipes/live-updates
DEMO ?= $(CURDIR)/.demo
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: test test-under-load unit lint docs pytest matrix test-matrix bench demo stop lock clean

test: lint docs pytest test-matrix

# The pinned tools, then the package itself, editable: the tests run the
# installed `twistd django`, not a folder on PYTHONPATH.
$(BIN)/.installed: pyproject.toml requirements/ci.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/ci.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $@

# The virtual environment alone, for the tutorial's first step.
.PHONY: venv
venv: $(BIN)/.installed
	@echo "The virtual environment is ready: activate it with . $(BIN)/activate"

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sphinx-lint docs

docs: $(BIN)/.installed
	$(BIN)/sphinx-build -q -n -W --keep-going -b html docs docs/_build/html

pytest: $(BIN)/.installed
	$(BIN)/pytest

# `make test` with a CPU hog beside it: one busy process per core, at normal
# priority (tests/support/cpu_hog.py), as on a CI machine building something else.
test-under-load: $(BIN)/.installed
	$(BIN)/python tests/support/cpu_hog.py -- $(MAKE) test

# The in-process unit tests alone: Twisted's test doubles, no daemon.
unit: $(BIN)/.installed
	$(BIN)/pytest tests/unit

# The matrix (noxfile.py, tools/compatibility.py): the unit tests on every
# installed Python from 3.10 up, with Django 5.2 LTS and the newest Django,
# on the oldest and the newest Twisted that pyproject.toml declares, and the
# whole suite on 3.11 and 3.13. It writes docs/reference/compatibility.rst.
# `make test` runs it all but the whole suite on 3.11, which is its own
# pytest step. PYTEST_ARGS make a partial run, which leaves the page alone.
matrix: $(BIN)/.installed
	$(BIN)/python tools/compatibility.py run $(if $(PYTEST_ARGS),-- $(PYTEST_ARGS))

test-matrix: $(BIN)/.installed
	$(BIN)/python tools/compatibility.py run --make-test

# Measure the recipes against the peers (docs/reference/performance.rst).
# Not part of `make test`: it takes about 13 minutes, on a quiet machine.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
bench: $(BIN)/.installed
	@command -v wrk >/dev/null || $(SUDO) apt-get install -y wrk \
	    || { $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }
	$(BIN)/python -m pip install --quiet -r requirements/bench.txt
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# Regenerate the pinned versions from pyproject.toml (needs uv).
LOCK := uv pip compile pyproject.toml --universal --python-version 3.10 \
	--no-header --no-annotate
lock:
	$(LOCK) --extra test --extra docs --extra lint --extra matrix -o requirements/ci.txt
	$(LOCK) --all-extras -o requirements/bench.txt

demo: docs
	@mkdir -p $(DEMO)
	@test -s $(DEMO)/secret_key || $(BIN)/python -c \
	    "import secrets; print(secrets.token_urlsafe(50))" > $(DEMO)/secret_key
	@BACKUPSITE_DATA_DIR=$(DEMO)/var DJANGO_SECRET_KEY_FILE=$(DEMO)/secret_key \
	    $(BIN)/python examples/site/manage.py migrate --noinput --verbosity 0
	@BACKUPSITE_DATA_DIR=$(DEMO)/var DJANGO_SECRET_KEY_FILE=$(DEMO)/secret_key \
	    $(BIN)/python examples/site/manage.py collectstatic --noinput --verbosity 0
	@BACKUPSITE_DATA_DIR=$(DEMO)/var DJANGO_SECRET_KEY_FILE=$(DEMO)/secret_key \
	    $(BIN)/python examples/site/manage.py shell --verbosity 0 -c \
	    "from django.contrib.auth.models import User; User.objects.filter(username='demo').exists() or User.objects.create_superuser('demo', 'demo@example.com', 'demo')"
	@BACKUPSITE_DATA_DIR=$(DEMO)/var DJANGO_SECRET_KEY_FILE=$(DEMO)/secret_key \
	    PYTHONPATH=$(LIVE):$(CURDIR)/examples/recipes/backup-server:$(CURDIR)/examples/site \
	    $(BIN)/twistd --pidfile=$(DEMO)/twistd.pid --logfile=$(DEMO)/twistd.log \
	    live-updates --settings liveupdates.settings --listen tcp:$(PORT):interface=127.0.0.1 \
	    --agents tcp:$(AGENTS_PORT):interface=127.0.0.1 --mount /docs/=$(CURDIR)/docs/_build/html
	@PYTHONPATH=$(LIVE) nohup $(BIN)/python -m liveupdates.demo_agent \
	    --server 127.0.0.1:$(AGENTS_PORT) --every 3 > $(DEMO)/agent.log 2>&1 & echo $$! > $(DEMO)/agent.pid
	@echo "Serving the twistd-django package daemonized, with the live-updates recipe (PID $$(cat $(DEMO)/twistd.pid)):"
	@echo "  site:    http://127.0.0.1:$(PORT)/"
	@echo "  live:    http://127.0.0.1:$(PORT)/accounts/login/ (demo / demo): an agent reports a snapshot every 3 s"
	@echo "  docs:    http://127.0.0.1:$(PORT)/docs/"
	@echo "  pidfile: $(DEMO)/twistd.pid"
	@echo "  log:     $(DEMO)/twistd.log"
	@echo "  stop:    make stop$(if $(filter-out $(CURDIR)/.demo,$(DEMO)), DEMO=$(DEMO))"

stop:
	@test -f $(DEMO)/agent.pid && kill $$(cat $(DEMO)/agent.pid) 2>/dev/null; rm -f $(DEMO)/agent.pid
	@test -f $(DEMO)/twistd.pid || { echo "Not running: no $(DEMO)/twistd.pid."; exit 0; }; \
	pid=$$(cat $(DEMO)/twistd.pid); kill -TERM $$pid; \
	for i in $$(seq 100); do test -f $(DEMO)/twistd.pid || break; sleep 0.1; done; \
	if test -f $(DEMO)/twistd.pid; then echo "PID $$pid did not stop in 10 s."; exit 1; fi; \
	echo "Stopped PID $$pid."

clean:
	rm -rf $(VENV) docs/_build $(DEMO) .nox
