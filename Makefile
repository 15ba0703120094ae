# Common Ground: `make run` sets up and starts the assistant; `make test` sets up and runs every test.
# Every target installs what is missing first and skips what is already up to date.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
INSTALLED := $(VENV)/.installed
SPACY_MODEL := build/spacy-en-commonground/meta.json
MODEL := models/commonground.tar.gz
WEB_BUNDLE := web/dist/commonground-widget.js
WEB_SOURCES := web/package.json web/package-lock.json web/build.mjs $(shell find web/src -type f 2>/dev/null)
TRAINING_INPUTS := config.yml domain.yml $(addprefix bot/understanding/,scope.py sentence_encoder.py fact_model.py facts.py intents.py rasa_components.py danger_model.py) $(shell find data/nlu data/facts data/safety data/rules data/stories -name '*.yml' 2>/dev/null) $(SPACY_MODEL)
# The list of training files itself, rewritten only when it changes: a deleted or renamed data file
# retrains too (make alone only notices files that are newer than the model).
TRAINING_LIST := build/training-inputs.txt
$(shell mkdir -p build && { [ "$$(cat $(TRAINING_LIST) 2>/dev/null)" = "$(sort $(TRAINING_INPUTS))" ] || echo "$(sort $(TRAINING_INPUTS))" > $(TRAINING_LIST); })

export RASA_PORT ?= 5005
export ACTION_PORT ?= 5055
export WEB_PORT ?= 8080
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1
export PYTHONDONTWRITEBYTECODE ?= 1
# Rasa reports usage and crashes to its vendor unless told not to: nothing of ours leaves the machine.
export RASA_TELEMETRY_ENABLED ?= false

.PHONY: help run shell test unit validate stories eval cv bench bench-nlu kb install web test-tools clean \
	telegram-webhook erase retention scaleout chaos staff-user soak reviewed

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

run: $(MODEL) kb $(WEB_BUNDLE) ## Set up, train if needed, start the servers and the demo page (Ctrl-C stops all)
	@scripts/run.sh

shell: $(MODEL) kb ## Talk to the assistant in the terminal
	@scripts/run.sh --shell

test: validate unit stories ## Set up, then run every test (what CI runs)

unit: $(MODEL) kb $(WEB_BUNDLE) test-tools ## pytest: unit, action, end-to-end, channel and browser tests
	$(PY) -m pytest

validate: $(INSTALLED) ## Check the training data and domain for conflicts and warnings
	$(RASA) data validate --fail-on-warnings --max-history 5

stories: $(MODEL) kb ## Run the test stories against the trained model
	$(RASA) test core --model $(MODEL) --stories tests/stories --out results/stories --fail-on-prediction-errors --no-plot

eval: $(MODEL) ## Understanding figures on the report sets of tests/nlu/ (MISSES=1 lists every miss, DEV=1 the tuning sets)
	$(PY) scripts/evaluate.py $(if $(MISSES),--misses) $(if $(DEV),--dev)$(if $(FAMILY), --family $(FAMILY))

cv: $(INSTALLED) ## 5-fold cross-validation of the intent classifier on the training data (about 20 minutes)
	$(RASA) test nlu --nlu data/nlu --config config.yml --cross-validation --folds 5 --out results/cv
	$(PY) scripts/nlu_report.py results/cv

bench: $(MODEL) kb ## Benchmark against Rasa's starter bot; writes docs/benchmarks.md
	$(PY) scripts/bench.py $(BENCH_ARGS)

bench-nlu: $(MODEL) ## What reading a never-seen message costs against a repeated one (the sentence embedding), printed
	$(PY) scripts/bench_understanding.py

soak: $(MODEL) kb ## Ten minutes at concurrency 8: memory growth and latency per minute into docs/benchmarks.md (not in CI)
	$(PY) -m scripts.soak $(SOAK_ARGS)

kb: $(INSTALLED) ## Migrate DATABASE_URL (Alembic) and load the knowledge base (no-op when unchanged)
	$(PY) -m bot.knowledge.load

web: $(WEB_BUNDLE) ## Build the website widget (npm) into web/dist/

$(WEB_BUNDLE): $(WEB_SOURCES)
	scripts/build-web.sh
	@touch $@

test-tools: ## Install what the tests drive: Debian's chromium and nginx (fails under CI=true if impossible)
	@scripts/install-browser.sh
	@scripts/install-nginx.sh

telegram-webhook: $(INSTALLED) ## Register the Telegram webhook (TELEGRAM_TOKEN, TELEGRAM_SECRET_TOKEN, TELEGRAM_WEBHOOK_URL)
	$(PY) -m bot.channels.telegram set-webhook

scaleout: $(MODEL) ## Run 2 Rasa + 2 action servers behind nginx on PostgreSQL and Redis (Ctrl-C stops)
	@scripts/install-nginx.sh
	$(PY) -m scripts.scaleout --rasa 2 --actions 2

chaos: $(MODEL) ## Faults under load (own PostgreSQL + Redis, 2+2 servers behind nginx): SIGKILL a replica, restart Redis and PostgreSQL, then check nothing was lost or doubled (CI runs it)
	@scripts/install-nginx.sh
	$(PY) -m scripts.chaos $(CHAOS_ARGS)

erase: $(INSTALLED) ## Delete everything stored for one conversation: make erase ID=<conversation id>
	@test -n "$(ID)" || { echo "usage: make erase ID=<conversation id>" >&2; exit 2; }
	$(PY) -m bot.privacy erase "$(ID)"

staff-user: $(INSTALLED) ## Create or reset a staff console account: make staff-user EMAIL=<address> (password on stdin)
	@test -n "$(EMAIL)" || { echo "usage: make staff-user EMAIL=<address>" >&2; exit 2; }
	@$(PY) -m bot.console.accounts "$(EMAIL)"

retention: $(INSTALLED) ## Delete conversations idle for more than RETENTION_DAYS (default 90)
	$(PY) -m bot.privacy retention

install: $(INSTALLED) ## Create the virtual environment with exactly pinned dependencies

$(INSTALLED): requirements.txt requirements-nodeps.txt scripts/find-python.sh scripts/install.sh
	@scripts/install.sh "$(VENV)"
	@touch $@

$(SPACY_MODEL): $(INSTALLED) bot/understanding/pipeline.py bot/understanding/vocabulary.py
	$(PY) -m bot.understanding.pipeline build/spacy-en-commonground

$(MODEL): $(INSTALLED) $(TRAINING_INPUTS) $(TRAINING_LIST)
	$(RASA) train --fixed-model-name commonground --out models
	@touch $@

clean: ## Remove build output, trained models and test results (keeps the virtual environment)
	rm -rf build models results .rasa

# Where `make reviewed` writes (a test points them at a copy of the project's data).
REVIEWED_NLU_DIR ?= data/nlu
REVIEWED_REPORTS ?= results/review

reviewed: $(INSTALLED) ## Staff review decisions into data/nlu/reviewed.yml (+ results/review/*.csv); the next run retrains
	$(PY) -m bot.review.export --nlu-dir "$(REVIEWED_NLU_DIR)" --reports "$(REVIEWED_REPORTS)"
