# The two commands: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
FAKES_PORT ?= 8100

# Development defaults; production sets its own environment (docs/settings.md).
export DEBUG ?= true

.PHONY: run test lint bench chromium wrk clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The issuer follows the port, unless ISSUER is set.
run: export ISSUER ?= http://127.0.0.1:$(PORT)
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
ifeq ($(filter $(shell echo '$(DEMO_CLIENT)' | tr A-Z a-z),0 false no off),)
	$(PY) manage.py setupdemo --port $(PORT)
endif
	@# Beside the server, the worker that delivers back-channel logout tokens and provider
	@# unlinks (manage.py logoutworker); with FAKES=1, local fakes of Google, Naver and Kakao.
ifdef FAKES
	@$(PY) manage.py fakeproviders --port $(FAKES_PORT) --quiet & fakes=$$!; \
	  fakes_env="$$($(PY) manage.py fakeproviders --env --port $(FAKES_PORT))"; \
	  env $$fakes_env $(PY) manage.py logoutworker & worker=$$!; \
	  trap 'kill $$fakes $$worker 2>/dev/null' EXIT INT TERM; \
	  env $$fakes_env $(PY) manage.py runserver 127.0.0.1:$(PORT)
else
	@$(PY) manage.py logoutworker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT)
endif

test: $(VENV)/.installed-dev chromium
	$(PY) -m pytest

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Load test on PostgreSQL (DATABASE_URL's server, database authserver_bench); see docs/benchmark.md.
bench: $(VENV)/.installed wrk
	$(PY) -m bench.run

wrk:
	$(call debian_package,wrk,make bench needs wrk)

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
chromium:
	$(call debian_package,chromium,The browser tests need Chromium)

# A Debian package, installed when its command is missing (as root); else how to get it.
define debian_package
	@command -v $(1) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
	  else \
	    echo "$(2): sudo apt-get install $(1)" >&2; exit 1; \
	  fi; }
endef

clean:
	rm -rf $(VENV) .pytest_cache staticfiles
