# Every target creates .venv itself, so a fresh clone needs only `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test lab demo bench classroom classroom-static html lint readme clean experiment fuzz device-check

$(PY):
	$(PYTHON) -m venv $(VENV)

# What each role installs (pyproject.toml's extras). `make test` and the other maintainer
# targets install everything (`.[dev]`: the test tools and every extra), stamped by
# $(STAMP); `make demo` installs the core, `make lab` `.[lab]`, `make classroom`,
# `make classroom-static` and `make html` `.[classroom]`, each stamped by its own
# $(VENV)/.installed-ROLE. A role's stamp only checks that the full install is current when
# there is one (it holds every role), so a clone that ran `make test` installs nothing more,
# and `make test` after `make lab` installs the rest once.
$(STAMP): $(PY) pyproject.toml setup.py
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev]"
	touch $(STAMP)

$(VENV)/.installed-%: $(PY) pyproject.toml setup.py
	@if [ "$(STAMP)" -nt pyproject.toml ] && [ "$(STAMP)" -nt setup.py ]; then \
	  echo "$(STAMP) is current: every extra is installed"; \
	else \
	  $(PY) -m pip install --upgrade pip && \
	  $(PY) -m pip install -e "$(if $(filter core,$*),.,.[$*])"; \
	fi
	touch $@

install: $(STAMP)

# Two pytest-xdist workers, one per core; tests that share a server, a site or a classroom
# pool run in one xdist_group on one worker (tests/xdist_groups.py), handed out in collection
# order (the tests that read executed notebooks last), and each notebook runs once for both
# (tests/notebook_runs.py).
test: $(STAMP)
	$(PY) -m ruff check explainer tests benchmarks tools
	$(PY) -m pytest -ra -n 2 --dist loadgroup --no-loadscope-reorder

lint: $(STAMP)
	$(PY) -m ruff check explainer tests benchmarks tools

lab: $(VENV)/.installed-lab
	$(VENV)/bin/jupyter lab notebooks/ $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

demo: $(VENV)/.installed-core
	$(PY) -m explainer

bench: $(STAMP)
	$(PY) benchmarks/bench_trace.py
	$(PY) benchmarks/bench_scale.py
	$(PY) benchmarks/bench_ports.py
	$(PY) benchmarks/bench_notebooks.py
	$(PY) benchmarks/bench_why_scale.py

# The classroom apps (notebooks/apps/, no TensorFlow in their kernels) with Voila on
# http://$(HOST):$(PORT)/. HOST defaults to 127.0.0.1 (this machine only); HOST=0.0.0.0 is the
# explicit choice that serves the room's network: the URLs students open (one per address of
# this machine) and their QR codes are printed first. Voila serves the apps only: its kernels
# take widget messages, never code (see the README). The scale app's 202 slider frames are
# drawn first into the machine's shared folder (about 7 s, once), so students' kernels never
# draw; voila.json (culling, the classroom kernel manager) is read from here; the classroom
# template (share/jupyter/voila/templates/classroom) drops Voila's CDN links. POOL=N preheats N
# kernels (default 30: one class) of each app of APP (default scale_explorer; APP="scale_explorer
# broadcast_playground" preheats both), started in waves; a line `ready: N seats (...)` says
# when they all wait for students. POOL=0 starts a kernel per visit only. MAX_KERNELS=N caps
# the kernels, seats included (default: twice the seats, and at least 10): past it a student's
# page answers 503 "the class server is full" until closed tabs' kernels are culled. The server
# is Voila with its doors checked (explainer/classroom/server.py). VOILA_ARGS adds options
# (tests: a short cull time).
PORT ?= 8866
HOST ?= 127.0.0.1
POOL ?= 30
APP ?= scale_explorer
MAX_KERNELS ?=
VOILA_ARGS ?=
# the pools: POOL kernels for each app of APP, none for the other apps
POOL_ARGS = $(if $(filter-out 0,$(POOL)),--ClassroomVoila.pool='$(POOL)' --ClassroomVoila.pool_apps='$(APP)')
classroom: $(VENV)/.installed-classroom
	$(PY) -m explainer.classroom.figure
	$(PY) -m explainer.classroom.network --host '$(HOST)' --port '$(PORT)' \
	  --path voila/render/$(firstword $(APP)).ipynb --what "the classroom apps (Voila)"
	JUPYTER_PATH="$(CURDIR)/share/jupyter$${JUPYTER_PATH:+:$$JUPYTER_PATH}" \
	$(PY) -m explainer.classroom.server notebooks/apps/ --no-browser --Voila.ip='$(HOST)' \
	  --port='$(PORT)' --template=classroom $(POOL_ARGS) \
	  $(if $(MAX_KERNELS),--ClassroomKernelManager.max_kernels='$(MAX_KERNELS)') $(VOILA_ARGS)

# The static pages (SITE, default build/html, built first if a page is missing: `make html`)
# for a class of any size: a threaded file server on http://$(HOST):$(PORT)/, same HOST rule and
# URLs as above. Files only: no kernel, nothing runs on the server.
SITE ?= build/html
classroom-static: $(VENV)/.installed-classroom
	$(PY) -m explainer.classroom.static_server '$(SITE)' --host '$(HOST)' --port '$(PORT)'

# The "why scale" grid (Szegedy et al. 3.3 at the nets' depth, with the scale's two effects
# under training split into arms): 792 runs, 135 minutes of
# training in one process (results/why_scale.json's seconds_all_runs), about half that on
# WORKERS Dask worker processes (default: the cores; 2 workers 1.99x faster in make bench).
# Runs are keyed by their arguments: every run already in results/why_scale.json (or in its
# .partial.jsonl after an interruption) is reused, so adding a setting trains only the new
# runs; FORCE=1 trains every run again.
WORKERS ?= $(shell nproc 2>/dev/null || echo 1)
experiment: $(STAMP)
	$(PY) -m explainer why-scale --workers $(WORKERS) $(if $(FORCE),--force)

# Random argument lists for every subcommand (tools/fuzz_cli.py): 1,000 each, in this process,
# no traceback, no hang (30 s a case), one stderr line on exit 2 / 74; about half an hour on
# 2 cores. Not part of `make test`; the suite keeps a small sample (tests/test_hostile_*.py).
# Then the classroom servers (tools/fuzz_classroom.py): hostile URLs and symlinks on the static
# server, hostile URLs and kernel websocket frames on Voila, each case followed by another
# student's request (about a minute; tests/test_classroom_guards.py keeps a sample).
fuzz: $(STAMP)
	$(PY) tools/fuzz_cli.py --cases $(or $(CASES),1000)
	$(PY) tools/fuzz_classroom.py --cases $(or $(CASES),300)

# The blocks on Keras' PyTorch and JAX backends, on the GPU when there is one and on the CPU,
# against the numpy reference, TensorFlow blocked (tools/device_check.py). BUNDLE=DIR instead
# writes the folder to carry to a machine without Keras or TensorFlow (at most 64 MiB).
device-check: $(STAMP)
	$(PY) tools/device_check.py $(if $(BUNDLE),--bundle $(BUNDLE))

html: $(VENV)/.installed-classroom
	$(PY) -m explainer.site.build build/html

readme: $(STAMP)
	$(PY) tools/update_readme.py

clean:
	rm -rf $(VENV) build .pytest_cache
