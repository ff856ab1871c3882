# Two set-up commands for a fresh machine: `make demo` and `make test`. Each creates .venv if needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# when make started: `make demo` reports its wall time with the set-up of a fresh .venv included
START := $(shell date +%s)

.PHONY: demo demo-pix2pix demo-cyclegan demo-stargan demo-gan test clean-demo

$(VENV)/.base: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

demo: demo-pix2pix

demo-pix2pix: $(VENV)/.base
	$(VENV)/bin/translation demo pix2pix
	@echo "make $@: $$(( $$(date +%s) - $(START) )) s wall time, set-up included"

demo-cyclegan: $(VENV)/.base
	$(VENV)/bin/translation demo cyclegan

demo-stargan: $(VENV)/.base
	$(VENV)/bin/translation demo stargan

demo-gan: $(VENV)/.base
	$(VENV)/bin/translation demo gan

test: $(VENV)/.test
	$(PY) -m pytest -q

clean-demo:
	rm -rf demo_output
