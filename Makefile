# Two commands on a fresh machine:  make run  (portal with demo data)  and  make test  (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := portal
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
TRANSLATIONS := portal/translations
MO_FILES := $(patsubst %.po,%.mo,$(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po))

.PHONY: run test install install-dev db clean translations messages

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt $(BIN)/activate
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Compiled catalogues (.mo) are built here, never committed.
$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS) -l $*

install: $(VENV)/.installed $(MO_FILES)
install-dev: $(VENV)/.installed-dev $(MO_FILES)

translations: $(MO_FILES)

# After adding or changing a wrapped string: re-extract the catalogue template and merge it into
# every language; then translate the new entries in the .po files (see README, "Translations").
messages: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 \
		--ignore-dirs=".* __pycache__" --sort-by-file --add-location=file --project=portal -w 120 \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel -q update -N --ignore-obsolete -w 120 -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

# seed-demo --if-empty seeds an empty database only, and prints one login per role every time.
db: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty

# make run PORT=5100 HOST=0.0.0.0
HOST ?= 127.0.0.1
PORT ?= 5000
run: db
	@echo "Cổng thi đua: http://$(HOST):$(PORT)  (tài khoản mẫu theo vai trò và mật khẩu chung: ở trên)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# The suite on SQLite (browser tests included), then on PostgreSQL when it is reachable with the clock
# CLOCK_SHIFT_DAYS ahead (no test may lean on today's date), then the load/kill scenarios on PostgreSQL
# (their gunicorn servers keep the real clock). Without PostgreSQL the shifted pass runs on SQLite.
# JOBS pytest-xdist workers per pass (each its own database). Tests run in a random order: each pass ends
# with its seed, and `pytest --randomly-seed=N -p no:xdist` replays that order.
CLOCK_SHIFT_DAYS ?= 400
JOBS ?= 2
test: install-dev
	$(BIN)/python -m pytest -q -rs -n $(JOBS)
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== The suite on PostgreSQL ($(PG_TEST_URL)), the clock $(CLOCK_SHIFT_DAYS) days ahead =="; \
		TEST_DATABASE_URL=$(PG_TEST_URL) TEST_CLOCK_SHIFT_DAYS=$(CLOCK_SHIFT_DAYS) \
			$(BIN)/python -m pytest -q -rs -n $(JOBS) -m "not browser and not load" && \
		echo "== Load and kill scenarios on PostgreSQL (gunicorn, the real clock) ==" && \
		TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -q -rs -m load; \
	else \
		echo "SKIPPED: PostgreSQL is not reachable at $(PG_TEST_URL); the PostgreSQL pass did not happen."; \
		echo "== The suite without browser and load tests on SQLite, the clock $(CLOCK_SHIFT_DAYS) days ahead =="; \
		TEST_CLOCK_SHIFT_DAYS=$(CLOCK_SHIFT_DAYS) $(BIN)/python -m pytest -q -n $(JOBS) -m "not browser and not load"; \
	fi

clean:
	rm -rf $(VENV) instance/portal.db
