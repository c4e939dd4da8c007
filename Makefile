# Every target creates .venv itself, so a fresh clone needs only `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test lab demo bench classroom html lint readme clean experiment fuzz

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev,torch,onnx]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m ruff check explainer tests benchmarks tools
	$(PY) -m pytest -ra

lint: $(STAMP)
	$(PY) -m ruff check explainer tests benchmarks tools

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

demo: $(STAMP)
	$(PY) -m explainer

bench: $(STAMP)
	$(PY) benchmarks/bench_trace.py
	$(PY) benchmarks/bench_scale.py
	$(PY) benchmarks/bench_ports.py

# The classroom apps (notebooks/apps/, no TensorFlow in their kernels) on http://127.0.0.1:$(PORT)/;
# first the scale app's 202 slider frames are drawn into the machine's shared folder (about
# 7 s, once: later starts find them), so students' kernels read frames and never draw;
# voila.json (culling of closed tabs' kernels) is read from here; the classroom template
# (share/jupyter/voila/templates/classroom) drops Voila's CDN links. POOL=N preheats N kernels
# (default 30: a class) for each app of POOL_APPS (default: both apps) before students
# arrive; POOL=0 starts a kernel per visit only. VOILA_ARGS adds options (tests: a short
# cull time).
PORT ?= 8866
POOL ?= 30
POOL_APPS ?= scale_explorer broadcast_playground
VOILA_ARGS ?=
comma := ,
# Voila's per-notebook pools: POOL kernels for each of POOL_APPS, none for the other apps
POOL_CONFIG = {"default":{"pool_size":0}$(foreach app,$(POOL_APPS),$(comma)"$(app).ipynb":{"pool_size":$(POOL)})}
POOL_ARGS = $(if $(filter-out 0,$(POOL)),--preheat_kernel=True '--VoilaKernelManager.kernel_pools_config=$(POOL_CONFIG)')
classroom: $(STAMP)
	$(PY) -m explainer.widgets.classroom_figure
	JUPYTER_PATH="$(CURDIR)/share/jupyter$${JUPYTER_PATH:+:$$JUPYTER_PATH}" \
	$(VENV)/bin/voila notebooks/apps/ --no-browser --Voila.ip=127.0.0.1 --port=$(PORT) \
	  --template=classroom $(POOL_ARGS) $(VOILA_ARGS)

# The "why scale" grid (Szegedy et al. 3.3 at the nets' depth): 324 runs, 42 minutes of
# training on 2 cores (results/why_scale.json's seconds_all_runs); resumable (run it again
# after an interruption). Writes results/why_scale.json; when that file already holds this
# grid's results it says so and stops: FORCE=1 trains it again.
experiment: $(STAMP)
	$(PY) -m explainer why-scale $(if $(FORCE),--force)

# Random argument lists for every subcommand (tools/fuzz_cli.py): 1,000 each, in this process,
# no traceback, no hang (30 s a case), one stderr line on exit 2 / 74; about half an hour on
# 2 cores. Not part of `make test`; the suite keeps a small sample (tests/test_hostile_*.py).
fuzz: $(STAMP)
	$(PY) tools/fuzz_cli.py --cases $(or $(CASES),1000)

html: $(STAMP)
	$(PY) -m explainer.site.build build/html

readme: $(STAMP)
	$(PY) tools/update_readme.py

clean:
	rm -rf $(VENV) build .pytest_cache
