# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both (re)build the virtual environment from the pinned requirements first.

PYTHON    ?= python3
VENV      := .venv
SAM_VENV  := .venv-sam
SCAN_VENV := .venv-scan
BIN       := $(VENV)/bin
SAM       := $(SAM_VENV)/bin/sam
# sam build's python3.12 workflow and the sklearn layer's Makefile need python3.12 on PATH.
PY312_BIN := $(lastword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin))
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: demo test check lint typecheck validate scan unit sizes build bench scale memory events mutation lock \
	lock-scan clean fuzz least-privilege

$(VENV)/.installed: requirements/dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# aws-sam-cli pins older boto3/pydantic, so it lives in its own environment.
$(SAM_VENV)/.installed: requirements/sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet -r requirements/sam.txt
	touch $@

# checkov pins its own boto3 and networkx, so it lives in its own environment too.
$(SCAN_VENV)/.installed: requirements/scan.txt
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet --upgrade pip
	$(SCAN_VENV)/bin/pip install --quiet -r requirements/scan.txt
	touch $@

demo: $(VENV)/.installed
	$(BIN)/modelops demo

test: lint typecheck validate scan unit

# The inner loop: lint, types and the fast unit tests of the library (tests/unit) and of the
# developer side (tests/dev): no AWS, no sandbox.
check: lint typecheck $(VENV)/.installed
	$(BIN)/pytest -q tests/unit tests/dev -m "not slow"

# The sandbox checks every call against the template's roles, expanded by the SAM translator
# that .venv-sam holds (modelops_dev/sandbox/iam/). pytest-xdist runs the suite in WORKERS
# processes, each with its own sandbox (its own moto): one per core; a worker that runs out of
# tests takes the other's (worksteal: with the default, one worker once idled 157 s at the end).
WORKERS ?= 2
unit: $(VENV)/.installed $(SAM_VENV)/.installed
	$(BIN)/pytest -q -n $(WORKERS) --dist worksteal

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint --template template.yaml

# Static security scans, no unsuppressed finding: checkov over the template (each accepted
# finding is skipped in template.yaml's Metadata with its reason) and bandit over the Python,
# medium severity and above, no test skipped. Each accepted finding carries
# `# nosec <id>  # reason` on its line (the second '#' keeps the reason out of bandit's list of
# tests): every SQL-building site (B608) says why its pieces are safe (identifiers through
# `tabular.quote`, values through `tabular.literal`/`literal_list` or bound parameters, dates
# we format, or the spec's own SQL, which its author writes by design).
scan: $(SCAN_VENV)/.installed $(VENV)/.installed
	$(SCAN_VENV)/bin/checkov --file template.yaml --framework cloudformation --quiet --compact --skip-download
	$(BIN)/bandit -r layers/core/modelops functions dev --severity-level medium --quiet

# Every AWS call of the integration and e2e tests, checked against the template's roles, and
# the grants no call used (the same check runs in `make test`; this prints the report).
least-privilege: $(VENV)/.installed $(SAM_VENV)/.installed
	MODELOPS_IAM_REPORT=out/iam.json $(BIN)/pytest -q tests/integration tests/e2e
	$(BIN)/python -m modelops_dev.sandbox.iam.report out/iam.json

build: $(SAM_VENV)/.installed
	PATH="$(PY312_BIN):$$PATH" $(SAM) build --parallel

# Unzipped size of each function (code + its layers, as sam build lays them out) vs 250 MB,
# then each handler imported with Python 3.12 from only its code and layers, as in Lambda.
sizes: build $(VENV)/.installed
	$(BIN)/python -m modelops_dev.tools.lambda_sizes .aws-sam/build
	$(BIN)/python -m modelops_dev.tools.layer_check .aws-sam/build

bench: $(VENV)/.installed
	$(BIN)/python -m modelops_dev.tools.bench --out bench/results.json

# One large scoring run in the sandbox (default 2,000,000 rows in 16 chunks): rows conserved
# end to end, per-chunk seconds; writes bench/scale.json. PUBLICATION=items publishes item by
# item (below scoring.import_from_rows) instead of by bulk import.
ROWS ?= 2000000
CHUNKS ?= 16
ENGINE ?= duckdb
PUBLICATION ?= import
scale: $(VENV)/.installed
	$(BIN)/python -m modelops_dev.tools.scale --rows $(ROWS) --chunks $(CHUNKS) --engine $(ENGINE) --publication $(PUBLICATION)

# Each function's peak memory, each invocation in a fresh interpreter against a served sandbox
# (port 4599): training on 250,000 customers (an extract of 2,000,000 rows), one scoring month
# in chunks of 100,000 rows, online requests of 1 and 100 records. Writes bench/memory.json
# (checked in): tests/dev/tools/test_memory.py holds template.yaml's MemorySize to its peaks
# times the margin. About 20 minutes here, 11 of them train_model's fit. docs/scaling.md.
memory: $(VENV)/.installed
	$(BIN)/python -m modelops_dev.tools.memory

# Mutation testing of the pure domain modules, each against its own unit tests; prints the
# score per module and fails below 80 % in the gated ones (dev/modelops_dev/tools/mutation.py).
# MODULES="spec decisions" for some of them. Not part of `make test`.
mutation: $(VENV)/.installed
	$(BIN)/python -m modelops_dev.tools.mutation $(MODULES)

# Regenerate the stage sample events in events/ from a real run in the sandbox.
events: $(VENV)/.installed
	$(BIN)/python -m modelops_dev.tools.sample_events

lock:
	rm -rf /tmp/modelops-lock && $(PYTHON) -m venv /tmp/modelops-lock
	/tmp/modelops-lock/bin/pip install --quiet -r requirements/dev.in
	{ echo "# Generated by \`make lock\` from dev.in (pip freeze); the layers' pins are the same versions."; \
	  /tmp/modelops-lock/bin/pip freeze --exclude-editable; } > requirements/dev.txt

lock-scan:
	rm -rf /tmp/modelops-lock-scan && $(PYTHON) -m venv /tmp/modelops-lock-scan
	/tmp/modelops-lock-scan/bin/pip install --quiet -r requirements/scan.in
	{ echo "# Generated by \`make lock-scan\` from scan.in (pip freeze)."; \
	  /tmp/modelops-lock-scan/bin/pip freeze; } > requirements/scan.txt

clean:
	rm -rf $(VENV) $(SAM_VENV) $(SCAN_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache

# A bounded schema-driven fuzz run of the online API against its own /openapi.json
# (schemathesis, 200 examples per operation): 0 check failures and 0 5xx, or it fails.
fuzz: $(VENV)/.installed
	$(BIN)/python -m modelops_dev.tools.fuzz --examples 200
