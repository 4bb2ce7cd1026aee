# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run serve test lint format demo bench bench-load clean messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# The platform with demo data on the embedded SQLite database at http://127.0.0.1:8000.
# The demo spans today, so deadlines may reach into a year whose holidays are not yet published:
# count that year Monday–Friday rather than refusing (production defaults to a clear error).
run: $(STAMP)
	TAIZHANG_CALENDAR_UNKNOWN_YEAR=$${TAIZHANG_CALENDAR_UNKNOWN_YEAR:-weekends} $(BIN)/taizhang migrate --noinput
	TAIZHANG_CALENDAR_UNKNOWN_YEAR=$${TAIZHANG_CALENDAR_UNKNOWN_YEAR:-weekends} $(BIN)/taizhang demo --if-empty
	TAIZHANG_CALENDAR_UNKNOWN_YEAR=$${TAIZHANG_CALENDAR_UNKNOWN_YEAR:-weekends} $(BIN)/taizhang runserver 127.0.0.1:8000

# Production: collectstatic, migration and deploy checks, then gunicorn (taizhang/gunicorn_conf.py) with the
# settings from the environment (TAIZHANG_ENV=production …; README "Production"). `make run` is the demo.
serve: $(STAMP)
	$(BIN)/taizhang serve

# All tests on SQLite, and on PostgreSQL when DATABASE_URL points to it.
test: $(STAMP)
	$(BIN)/taizhang mechanisms check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/hazard_loop.py

# The production server on PostgreSQL under 50 clients for 60 s, next to /healthz (bench/README.md).
bench-load: $(STAMP)
	$(BIN)/python bench/load.py

# The English catalogues (the msgids are the Chinese UI text): collect the marked strings of each app with a
# catalogue, then compile. Translate the new empty entries in taizhang/<app>/locale/en/LC_MESSAGES/django.po
# and run it again. Needs GNU gettext (apt install gettext); the compiled .mo files are committed.
messages: $(STAMP)
	for app in web intake clock org insight; do (cd taizhang/$$app && ../../$(BIN)/django-admin makemessages -l en --no-obsolete --settings=taizhang.settings) || exit 1; done
	cd taizhang && ../$(BIN)/django-admin compilemessages -l en --settings=taizhang.settings

clean:
	rm -rf $(VENV) .pytest_cache db.sqlite3 media
