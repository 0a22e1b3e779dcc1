# make book  — set up .venv, execute every notebook and build the site into _build/html
# make test  — set up .venv and run every test (unit, notebook hygiene, every notebook, site build,
#              browser); each notebook is executed once and the site build reuses that execution
# make robust — every notebook again under the seed families SEEDS (default 0 1 2 3 4)
# make student — the student edition (student/NN_slug.ipynb, solutions removed) by nbgrader
# make lab   — JupyterLab on the book's notebooks;  make serve — the built site on 127.0.0.1:8000
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The site build; tests/test_site.py runs the same command.
BUILD  := $(BIN)/jupyter-book build --warningiserror --keep-going .

SEEDS  ?= 0 1 2 3 4

.PHONY: book test robust student lab serve bench lint format vendor set-repo clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "Python 3.10 or newer is needed (found: $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

book: $(STAMP)
	$(BUILD)
	@echo "The site is in _build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest

# Every claim of the book must hold under any seed family (MLBOOK_SEED shifts every seed); add
# ATEN_CPU_CAPABILITY=default to try the CPU path without vector instructions.
robust: $(STAMP)
	@set -e; for s in $(SEEDS); do \
	  echo "=== MLBOOK_SEED=$$s"; \
	  MLBOOK_SEED=$$s $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_chapters.py; \
	done

# The course edition: each chapter becomes an nbgrader assignment in course/ and its student
# edition (nbgrader generate_assignment: solutions removed, checks kept) student/NN_slug.ipynb.
student: $(STAMP)
	$(BIN)/python scripts/course.py

bench: $(STAMP)
	$(BIN)/python benchmarks/notebook_times.py

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

lab: $(STAMP)
	$(BIN)/jupyter lab book/

serve:
	@test -f _build/html/index.html || $(MAKE) book
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html 8000

vendor:
	scripts/vendor_assets.sh

# make set-repo URL=https://github.com/OWNER/REPO [BRANCH=main]
set-repo: $(STAMP)
	$(BIN)/python scripts/set_repository.py "$(URL)" "$(or $(BRANCH),main)"
	$(BIN)/python scripts/course.py

clean:
	rm -rf _build .jupyter_cache .pytest_cache .ruff_cache
