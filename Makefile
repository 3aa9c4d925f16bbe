# nutag — two commands on a fresh machine:
#   make run    set up (venv, dependencies, C++ build) and run the main job on the embedded default
#   make test   set up and run every test (ctest + pytest)
# Setting up is idempotent and fast when already done.
#
# Variables:
#   NUTAG_ROOT=wheel   (default) ROOT from the PyPI `root` wheel, installed into the venv
#   NUTAG_ROOT=system  use the ROOT already in your environment (LCG view, conda-forge): the venv
#                      sees the system site-packages and the wheel is not installed
#   ARGS="..."         extra arguments for `nutag run`, e.g. make run ARGS="--unblind --threads 2"
#   PYTEST_ARGS="..."  extra arguments for pytest
#   TEST_WORKERS=N     pytest processes (default: the cores); each takes whole test modules,
#                      so a module's shared fixtures are made once (docs/development.md)

PYTHON ?= python3
VENV ?= .venv
BUILD_DIR ?= build
NUTAG_ROOT ?= wheel
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
ARGS ?=
PYTEST_ARGS ?=
TEST_WORKERS ?= $(JOBS)
PYTEST := $(VENV)/bin/pytest -n $(TEST_WORKERS)

ifeq ($(NUTAG_ROOT),system)
  VENV_FLAGS := --system-site-packages
  EXTRAS := test,dist,bench
else
  VENV_FLAGS :=
  EXTRAS := root-wheel,test,dist,bench
endif

VPY := $(VENV)/bin/python
STAMP := $(VENV)/.nutag-setup-$(NUTAG_ROOT)

.PHONY: setup build run test test-cpp test-py browser clean distclean help

help:
	@sed -n '1,17p' Makefile

$(STAMP): pyproject.toml Makefile
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV_FLAGS) $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -e ".[$(EXTRAS)]"
	@rm -f $(VENV)/.nutag-setup-*
	@touch $@

build: $(STAMP)
	@test -f $(BUILD_DIR)/CMakeCache.txt || cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release \
		-DPython3_EXECUTABLE=$(abspath $(VPY)) > $(BUILD_DIR).configure.log 2>&1 \
		|| { cat $(BUILD_DIR).configure.log; exit 1; }
	cmake --build $(BUILD_DIR) -j $(JOBS) -- --no-print-directory -s

setup: build

run: setup
	$(VENV)/bin/nutag run $(ARGS)

test-cpp: setup
	ctest --test-dir $(BUILD_DIR) --output-on-failure

test-py: setup
	$(PYTEST) $(PYTEST_ARGS)

# headless Chromium for the report page's PDF and its browser test (tests/test_html_report.py);
# quick when installed, and a failed install only makes those tests skip
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
		|| { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
		     && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		        chromium >/dev/null; } \
		|| echo "warning: chromium not installed; the report page's browser test will skip"

test: setup browser
	ctest --test-dir $(BUILD_DIR) --output-on-failure
	$(PYTEST) $(PYTEST_ARGS)

clean:
	rm -rf $(BUILD_DIR) $(BUILD_DIR).configure.log

distclean: clean
	rm -rf $(VENV) data results
