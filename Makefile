# Kechuang — the two commands: `make run` and `make test` (see README.md).
# Every target goes through `make setup`, which is idempotent: a second run
# only re-does what changed (the lock file, static files, migrations).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_SCALE ?= province
HOST   ?= 127.0.0.1
PORT   ?= 8000

# `make run` is a local demonstration: debug mode, plain http, SQLite unless
# DATABASE_URL says otherwise. Production reads its own environment (.env.example).
RUN_ENV := KECHUANG_DEBUG=1 KECHUANG_HTTPS=0

.PHONY: setup run test lint check suite bench format lock schema demo clean system-deps

setup: $(STAMP) system-deps
	@mkdir -p var
	@$(RUN_ENV) $(BIN)/python manage.py collectstatic --noinput -v 0
	@$(RUN_ENV) $(BIN)/python manage.py migrate --noinput -v 0
	@echo "setup: ok ($(BIN)/kechuang)"

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

# Debian packages the test suite and reports need (a real Chromium for page
# tests, CJK fonts). Installed only when missing, and only where we are root.
system-deps:
	@sh scripts/system-deps.sh

run: setup
	@$(RUN_ENV) $(BIN)/kechuang demo --scale $(DEMO_SCALE)
	@$(RUN_ENV) $(BIN)/kechuang serve --host $(HOST) --port $(PORT)

test: setup lint check suite

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

check: $(STAMP)
	$(RUN_ENV) $(BIN)/python manage.py makemigrations --check --dry-run -v 0
	$(RUN_ENV) $(BIN)/python manage.py check --fail-level WARNING
	@# Integer bounds in the schema follow the database engine, so the committed schema is
	@# always generated against the default SQLite settings, whatever DATABASE_URL says.
	@env -u DATABASE_URL $(RUN_ENV) $(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml
	@diff -u docs/api/openapi.yaml var/openapi.yaml || \
	  (echo "The API changed: run 'make schema' and commit docs/api/openapi.yaml"; exit 1)
	KECHUANG_SECRET_KEY=check-deploy-$$(date +%s)-a8f3k2m9q7x1z5w4r6t0y2u8i3o5p7s9d1f KECHUANG_DEBUG=0 \
	  KECHUANG_ALLOWED_HOSTS=kj.example.gov.cn $(BIN)/python manage.py check --deploy --fail-level WARNING

suite: $(STAMP)
	$(BIN)/pytest -p no:cacheprovider -n 2 --dist load

# Every benchmark, each printing its ratios against a baseline measured in the same run.
bench: setup
	$(BIN)/python bench/run.py
	$(BIN)/python bench/bench_targets.py
	@test ! -f bench/bench_import.py || $(BIN)/python bench/bench_import.py
	@test ! -f bench/bench_index.py || $(BIN)/python bench/bench_index.py
	@test ! -f bench/bench_whatif.py || $(BIN)/python bench/bench_whatif.py
	@test ! -f bench/bench_extraction.py || $(BIN)/python bench/bench_extraction.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-resolve requirements.lock from pyproject.toml (needs the registry).
lock: $(STAMP)
	$(BIN)/pip-compile -q --extra dev --strip-extras --no-emit-index-url --no-emit-find-links \
	  -o requirements.lock pyproject.toml

# Regenerate the committed OpenAPI schema after an API change.
schema: $(STAMP)
	@mkdir -p docs/api
	env -u DATABASE_URL $(RUN_ENV) $(BIN)/python manage.py spectacular --validate --fail-on-warn --file docs/api/openapi.yaml

demo: setup
	$(RUN_ENV) $(BIN)/kechuang demo --scale $(DEMO_SCALE)

clean:
	rm -rf $(VENV) var .pytest_cache

# Re-extract the Chinese msgids into the English catalogue and compile it (polib, no msgfmt).
# Translate the new entries in kechuang/locale/en/LC_MESSAGES/django.po, then run it again.
.PHONY: messages
messages: $(STAMP)
	cd kechuang && $(RUN_ENV) ../$(BIN)/python ../manage.py makemessages -l en --no-obsolete \
	  --ignore "*/tests/*" --ignore "test_*"
	$(BIN)/python scripts/compile_messages.py
