# Two commands do all set-up on a fresh Debian/Ubuntu machine:
#   make book   system packages (if missing), .venv, Python packages, then the HTML in _build/html
#   make test   the same set-up, then every test (unit, notebooks under nbval, book build, report)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Arguments for a build that fails on any warning.
JB_STRICT := -W -n --keep-going
PYTEST_ARGS ?=
# Test workers (pytest-xdist): one per logical CPU (`auto` would count physical cores, one on a
# 2-vCPU machine with hyper-threads); `make test PYTEST_WORKERS=0` runs in one process.
PYTEST_WORKERS ?= logical

.PHONY: help setup guest book book-all test outputs student otter nbgrader-course lock clean distclean

help:
	@echo "make book      build the HTML book into _build/html (sets everything up first)"
	@echo "make test      set up, then run every test and print pytest's summary"
	@echo "make guest     build the labs' Linux guest (two Debian packages; cached until its"
	@echo "               inputs in tools/lab_guest* change); make test does it where QEMU is"
	@echo "make outputs   re-execute every notebook in place (after you change one)"
	@echo "make student   the labs' student edition in _build/student (+ .zip), and the book with"
	@echo "               every solution hidden (no lab pages, no instructor guide) in"
	@echo "               _build/student-book/_build/html"
	@echo "make otter     each lab as an otter-grader assignment in _build/otter/<l1..>/ (otter's"
	@echo "               master notebook, then otter assign: dist/student and dist/autograder)"
	@echo "make nbgrader-course  an nbgrader course in _build/nbgrader (source/<l1..>/ and its"
	@echo "               nbgrader_config.py); then cd there and run nbgrader generate_assignment l1"
	@echo "make lock      re-resolve requirements.txt from requirements.in"
	@echo "make clean     remove _build;  make distclean also removes .venv"

$(STAMP): requirements.txt pyproject.toml tools/system_deps.sh
	@tools/system_deps.sh book
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (virtbook)" >/dev/null
	@touch $(STAMP)

setup: $(STAMP)

# The labs' guest for real hosts (tools/lab_guest.py): cached under ~/.cache/virtbook/lab-guest,
# rebuilt only when the tool, its lock file or its /init change.
guest:
	$(PYTHON) tools/lab_guest.py build

book: setup
	$(BIN)/jupyter-book build . $(JB_STRICT)

book-all: setup
	$(BIN)/jupyter-book build . $(JB_STRICT) --all

test: setup
	@tools/system_deps.sh test
	@$(PYTHON) tools/lab_guest.py build --if-needed >/dev/null
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

outputs: setup
	$(BIN)/python tools/run_notebooks.py chapters labs instructor.ipynb validation.ipynb

student: setup
	$(BIN)/python tools/make_student.py labs --out _build/student
	$(BIN)/python tools/make_student.py --book-config _config.student.yml --book-toc _toc.student.yml
	$(BIN)/jupyter-book build . --config _config.student.yml --toc _toc.student.yml \
	  --path-output _build/student-book $(JB_STRICT); \
	  status=$$?; rm -f _config.student.yml _toc.student.yml; exit $$status

otter: setup
	$(BIN)/python tools/make_otter.py labs --out _build/otter

nbgrader-course: setup
	$(BIN)/python tools/make_student.py --nbgrader-course _build/nbgrader labs

lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/python -m pip install --quiet --upgrade pip
	.lockvenv/bin/python -m pip install --quiet -r requirements.in
	{ sed -n '1,3p' requirements.txt; .lockvenv/bin/python -m pip freeze --exclude-editable \
	  | sed 's/^jupyter-book==.*/jupyter-book>=1.0.4.post1,<2/'; } > requirements.txt.new
	mv requirements.txt.new requirements.txt && rm -rf .lockvenv

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV)
