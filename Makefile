# Two set-up commands for a fresh machine: `make demo` and `make test`. Each creates .venv if needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# when make started: `make demo` reports its wall time with the set-up of a fresh .venv included
START := $(shell date +%s)

.PHONY: demo demo-pix2pix demo-cyclegan demo-stargan demo-gan demo-pix2pixhd demo-superres demo-inpaint serve test clean-demo

$(VENV)/.base: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.serve: $(VENV)/.base
	$(PY) -m pip install --quiet -e '.[serve]'
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

demo-pix2pixhd: $(VENV)/.base
	$(VENV)/bin/translation demo pix2pixhd

# x4 super-resolution on scikit-image's bundled photos (scikit-image is a base requirement: nothing to add)
demo-superres: $(VENV)/.base
	$(VENV)/bin/translation demo superres
	@echo "make $@: $$(( $$(date +%s) - $(START) )) s wall time, set-up included"

# glcic fills rectangular holes in held-out photos, beside OpenCV's Telea and the mean colour (about 10 min on 2 cores)
demo-inpaint: $(VENV)/.base
	$(VENV)/bin/translation demo inpaint
	@echo "make $@: $$(( $$(date +%s) - $(START) )) s wall time, set-up included"

# the page and HTTP API over the demos' runs (`make demo`, demo-cyclegan, ...): open the URL it prints
serve: $(VENV)/.serve
	$(VENV)/bin/translation serve demo_output/checkpoints

# two pytest workers for the 2 cores the suite is timed on (`make test TEST_WORKERS=4` on a larger machine),
# a test on whichever worker is free, a file's tests that share a module fixture on one (tests/conftest.py), the
# longest first by the last run's times (tests/slowest_first.py: xdist's reorder by test count turned off); the
# 15 slowest tests are listed at the end
TEST_WORKERS ?= 2
test: $(VENV)/.test
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=15

clean-demo:
	rm -rf demo_output
