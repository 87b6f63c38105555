# Karla Sidebar. `make run` starts the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run run-prod test bench bench-sync bench-webhooks bench-bypasses soak lint format install install-dev browser clean \
	compilemessages messages

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed compilemessages
install-dev: $(VENV)/.installed-dev compilemessages

# The German (and any other) message catalog, compiled with Babel: no system gettext needed.
compilemessages: $(VENV)/.installed
	@$(PY) scripts/messages.py compile

# After changing user-facing strings: add them to locale/*/LC_MESSAGES/django.po, then translate.
messages: $(VENV)/.installed-dev
	$(PY) scripts/messages.py extract
	$(PY) scripts/messages.py check || true

# Local development settings (DEBUG on, sandbox on, generated keys), written once.
.env.local:
	$(PYTHON) scripts/write_dev_env.py $@

run: $(VENV)/.installed compilemessages .env.local
	$(PY) manage.py migrate --noinput
	$(PY) manage.py rundemo

.env.prod:
	$(PYTHON) scripts/write_dev_env.py $@ --prod

# The production profile on this machine (PostgreSQL, Redis, gunicorn): docs/deploy.md.
run-prod: $(VENV)/.installed compilemessages .env.prod
	bash scripts/run-prod

# Debian's Chromium for the browser tests (installed when we may; the tests say when it is missing).
browser:
	@bash scripts/ensure-chromium

test: $(VENV)/.installed-dev compilemessages browser
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# What the app adds to GoKarla's latency, under gunicorn: prints the figures, writes docs/performance.md.
bench: $(VENV)/.installed-dev compilemessages
	$(PY) bench/run.py

# sync_gokarla over 10 000 sandbox orders (SQLite, PostgreSQL): its section of docs/performance.md.
bench-sync: $(VENV)/.installed-dev
	$(PY) bench/sync.py

# Signed webhook deliveries per second under gunicorn (SQLite, PostgreSQL): its section of docs/performance.md.
bench-webhooks: $(VENV)/.installed-dev
	$(PY) bench/webhooks.py

# Each bypass of the framework (raw SQL, cache, libraries) against the framework's way, in-process: its section of docs/performance.md.
bench-bypasses: $(VENV)/.installed-dev
	$(PY) bench/bypasses.py

# 50 agents for 60 s while the GoKarla sandbox is down for 15 s: no 5xx, no lost history record.
soak: $(VENV)/.installed-dev compilemessages
	$(PY) bench/soak.py

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis .import_linter_cache
