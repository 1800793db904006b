# The two commands of the README: `make run` (install + start the app) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# Real data beside the checkout is used when present; otherwise the app opens its built-in demo.
DATA_DIR ?= $(if $(wildcard ../shared/data/fer2013.csv.gz),$(abspath ../shared/data),)

.PHONY: install run test test-fast lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-nodeps.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $@

run: install
	FER_DATA_DIR="$${FER_DATA_DIR:-$(DATA_DIR)}" $(PY) -m streamlit run Home.py --server.port $(PORT) \
		--browser.gatherUsageStats false $(ARGS)

test: install
	$(PY) -m pytest

# Under 3 minutes here (1:22-2:13 measured): the unit layer and AppTest of every page without `slow` (tests whose
# fixtures train for minutes), on three workers for two cores: many tests wait on a job, a thread or a poll. The process layer (CLI, jobs, sweeps: each test starts Python and TensorFlow
# again), training and browser layers run in `make test`.
test-fast: install
	$(PY) -m pytest -n 3 -m "(unit or app) and not slow"

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/train_throughput.py --archs cnn004,cnn002,cbam5cnn
	$(PY) bench/live.py
	$(PY) bench/detect.py
	$(PY) bench/live_browser.py

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
