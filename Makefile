# Every command a person runs. `make run` and `make test` bootstrap everything they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCALDB := $(PY) -m tracker.localdb
# Any manage.py command against the local database (DATABASE_URL if set, else the embedded server,
# the running one if there is one), after bringing its tables up to date: $(MANAGE) ARGS...
MANAGE = $(LOCALDB) -- sh -c '$(PY) manage.py migrate --no-input -v0 && exec $(PY) manage.py "$$@"' manage
# Local commands run with DEBUG on unless the caller says otherwise.
export DEBUG ?= 1
export PYTHONUNBUFFERED := 1

.PHONY: run test lint format check lock clean-data demo shell export dataset

$(STAMP): requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-dev.lock
	touch $(STAMP)

## run: start PostgreSQL, migrate, load the demo case and the ISAF press releases, serve on
## http://127.0.0.1:8000 with the background-job worker beside it (both loads are idempotent: on
## later runs they write nothing)
run: $(STAMP)
	$(LOCALDB) -- sh -c '$(PY) manage.py migrate --no-input && \
		$(PY) manage.py load_demo && \
		$(PY) manage.py import_isaf && \
		$(PY) manage.py export --archive && \
		$(PY) manage.py ensure_local_admin && \
		exec $(PY) -m tracker.with_worker $(PY) manage.py runserver 127.0.0.1:8000'

# Both test targets run on every core (pytest-xdist): a test goes to whichever worker is free,
# except that the tests sharing a module- or package-scoped fixture, and those starting embedded
# servers, stay together on one worker (xdist_group, tests/conftest.py). PYTEST_ARGS=-n0 runs
# them in one process (for --pdb, say).
XDIST := -n auto --dist loadgroup

## test: the whole suite, on every core, against a throwaway embedded PostgreSQL unless
## DATABASE_URL is set
test: $(STAMP)
	$(LOCALDB) --throwaway -- sh -c '$(PY) manage.py makemigrations --check --dry-run && \
		$(PY) manage.py check && \
		$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)'

## test-fast: the quick loop: every test but the browser, crawl, schema, localdb and slow ones, on
## every core, against the kept embedded server (like `make run`), keeping its test databases
## between runs, named after the migrations (PYTEST_ARGS=--create-db builds them afresh)
FAST_MARKERS := not browser and not crawl and not schema and not localdb and not slow
test-fast: $(STAMP)
	$(LOCALDB) -- $(PY) -m pytest $(XDIST) --reuse-db -m "$(FAST_MARKERS)" $(PYTEST_ARGS)
.PHONY: test-fast

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## lock: re-resolve the pinned, hashed dependency files from pyproject.toml
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -q -o requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -q -o requirements-dev.lock
	$(VENV)/bin/uv pip compile bench/requirements-bench.in --generate-hashes --python-version 3.11 -q -o requirements-bench.lock

## export: write every published record as a data package under EXPORT_DIR (.data/export), with
## the zip that /data/ offers for download
export: $(STAMP)
	$(MANAGE) export --archive

## manage: any manage.py command on the local database, e.g. make manage ARGS="import_records x.csv"
manage: $(STAMP)
	$(MANAGE) $(ARGS)

## coordinates: the shipped data's place coordinates from GeoNames (tools/geonames.py, a dev tool)
coordinates: $(STAMP)
	$(MANAGE) place_coordinates
.PHONY: coordinates

## backup: the local database in pg_dump's custom format, into .data/backups/<UTC time>.dump or FILE
backup: $(STAMP)
	$(LOCALDB) -- $(PY) -m tracker.backup dump $(if $(FILE),'$(FILE)')

## restore: replace the local database's contents with a backup: make restore FILE=... [YES=1]
restore: $(STAMP)
	$(LOCALDB) -- $(PY) -m tracker.backup restore $(if $(filter 1 yes true,$(YES)),--yes) $(if $(FILE),'$(FILE)')
.PHONY: manage backup restore

## dataset: replace the local database's (synthetic) records with a synthetic dataset
PERSONS ?= 100000
EVENTS ?= 1000000
SEED ?= 1
dataset: $(STAMP)
	$(LOCALDB) -- sh -c '$(PY) manage.py migrate --no-input && \
		$(PY) manage.py generate_dataset --persons $(PERSONS) --events $(EVENTS) --seed $(SEED)'

## shell: Django's shell on the local database (make manage ARGS=shell)
shell: $(STAMP)
	$(MANAGE) shell

## clean-data: delete the local database and the stored admin password (backups are kept)
clean-data:
	test ! -d .data || find .data -mindepth 1 -maxdepth 1 ! -name backups -exec rm -rf {} +

## browser-test: only the browser tests (tests/browser, Debian's Chromium), like `make test`
browser-test: $(STAMP)
	$(LOCALDB) --throwaway -- sh -c '$(PY) manage.py check && \
		$(PY) -m pytest tests/browser $(PYTEST_ARGS)'
.PHONY: browser-test

## prod-check: the production path end to end (.ci/prod-check): a virtualenv from requirements.lock
## alone, DEBUG off, check --deploy with no warning, migrate, collectstatic, gunicorn and a smoke
## crawl of status codes and security headers; a throwaway embedded PostgreSQL unless
## DATABASE_URL is set (it then uses a database tracker_prodcheck on that server)
prod-check: $(STAMP)
	.ci/prod-check
.PHONY: prod-check

## bench: time the public paths against their bare SQL (bench/RESULTS.md) on the local database;
## generates the synthetic dataset (PERSONS, EVENTS, SEED as for `make dataset`) first, unless
## BENCH_KEEP_DATA=1 says the one loaded is the one to measure. Not part of `make test`.
# The JSON Lines export measured: people (in their detail shape), events and sources, 1,200,000
# lines at full size, by default (a few minutes); BENCH_EXPORT_TYPES=events,sources leaves the
# people out.
BENCH_REPEAT ?= 30
# The benchmark's own tools (Datasette, sqlite-utils): a virtualenv of their own (below).
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
BENCH_EXPORT_TYPES ?= persons,events,sources
bench: $(STAMP) $(BENCH_STAMP)
	$(LOCALDB) -- sh -c '$(PY) manage.py migrate --no-input -v0 && \
		{ [ -n "$(BENCH_KEEP_DATA)" ] || $(PY) manage.py generate_dataset --quiet \
			--persons $(PERSONS) --events $(EVENTS) --seed $(SEED); } && \
		$(PY) -m bench.run --repeat $(BENCH_REPEAT) --export-types $(BENCH_EXPORT_TYPES) && \
		$(PY) -m bench.peer --repeat $(PEER_REPEAT)'
	$(MAKE) bench-replica
	$(MAKE) bench-load

## replica-pair: a PostgreSQL primary and a streaming replica of it on free loopback ports, under
## .data/ (tracker/replica_pair.py): prints DATABASE_URL and DATABASE_REPLICA_URLS, holds until
## Ctrl-C, then stops both and deletes their data. CMD="..." runs a command against them instead.
replica-pair: $(STAMP)
	$(PY) -m tracker.replica_pair $(if $(CMD),-- sh -c '$(CMD)')

## bench-replica: anonymous reads under load through gunicorn while the replica is healthy,
## lagging, stopped and back (bench/replica.py), into bench/replica-results.md; part of `make bench`
bench-replica: $(STAMP)
	$(PY) -m bench.replica
.PHONY: replica-pair bench-replica

## bench-smoke: the same at 2,000 people / 20,000 events on a throwaway database (a few minutes,
## most of them the JSON Lines export of the people)
bench-smoke: $(STAMP)
	$(LOCALDB) --throwaway -- sh -c '$(PY) manage.py migrate --no-input -v0 && \
		$(PY) manage.py generate_dataset --quiet --persons 2000 --events 20000 --seed 1 && \
		$(PY) -m bench.run --repeat 10 --warmup 2 --export-types persons --label "smoke: 2,000 people / 20,000 events"'

## bench-load: the load test (bench/load.py): gunicorn as docker-compose runs it on the local
## database, driven by wrk (`apt-get install wrk`) with a mixed workload at 1, 8 and 32 clients,
## the shared response cache off and on (Redis at BENCH_CACHE_URL, default
## redis://127.0.0.1:6379/15, emptied); writes bench/load-results.md. `make bench` ends with it.
BENCH_LOAD_ARGS ?= --duration 20 --clients 1,8,32
bench-load: $(STAMP)
	$(LOCALDB) -- $(PY) -m bench.load $(BENCH_LOAD_ARGS)
.PHONY: bench bench-smoke bench-load

# The benchmark's own tools (Datasette, sqlite-utils) live in a virtualenv of their own, from
# requirements-bench.lock, so their dependencies never mix with the application's.
$(BENCH_STAMP): requirements-bench.lock
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-bench.lock
	touch $(BENCH_STAMP)

## bench-env: the benchmark-only virtualenv .venv-bench (Datasette, sqlite-utils)
bench-env: $(BENCH_STAMP)

## bench-peer: the same public tasks against Datasette serving the same published data (the
## export loaded into SQLite), both over HTTP on loopback, requests interleaved: p50/p95 each,
## into bench/peer-results.md (bench/peer.py); on the local database as it is (`make bench`
## runs it after generating the dataset). PEER_ARGS: more of bench/peer.py's options (--out,
## --workdir, --export-dir, --sqlite, --task-budget, ...)
PEER_REPEAT ?= 30
PEER_ARGS ?=
bench-peer: $(STAMP) $(BENCH_STAMP)
	$(LOCALDB) -- sh -c '$(PY) manage.py migrate --no-input -v0 && \
		$(PY) -m bench.peer --repeat $(PEER_REPEAT) $(PEER_ARGS)'
.PHONY: bench-env bench-peer

## vendor: re-copy the browser libraries pinned in vendor/package.json (Leaflet and its marker
## clusters, for the map) from the npm registry into static/vendor/, with their licences. The
## copies are committed, so `make run` and CI need no npm; run this only to change a version.
VENDOR_STATIC := static/vendor/leaflet
vendor:
	cd vendor && npm ci --ignore-scripts --no-audit --no-fund
	rm -rf $(VENDOR_STATIC) && mkdir -p $(VENDOR_STATIC)/images
	# The source maps too: the scripts name them, and collectstatic's manifest follows the names.
	cp vendor/node_modules/leaflet/dist/leaflet.js vendor/node_modules/leaflet/dist/leaflet.js.map \
		vendor/node_modules/leaflet/dist/leaflet.css $(VENDOR_STATIC)/
	cp vendor/node_modules/leaflet/dist/images/*.png $(VENDOR_STATIC)/images/
	cp vendor/node_modules/leaflet/LICENSE $(VENDOR_STATIC)/LICENSE-leaflet
	cp vendor/node_modules/leaflet.markercluster/dist/leaflet.markercluster.js \
		vendor/node_modules/leaflet.markercluster/dist/leaflet.markercluster.js.map \
		vendor/node_modules/leaflet.markercluster/dist/MarkerCluster.css \
		vendor/node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css $(VENDOR_STATIC)/
	cp vendor/node_modules/leaflet.markercluster/MIT-LICENCE.txt $(VENDOR_STATIC)/LICENSE-leaflet.markercluster
	cd vendor && node -e 'const l=require("./package-lock.json").packages;for(const [k,v] of Object.entries(l))if(k)console.log(k.replace("node_modules/",""),v.version,v.integrity)' > ../$(VENDOR_STATIC)/VERSIONS
.PHONY: vendor
