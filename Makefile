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
TRAINING_INPUTS := config.yml domain.yml $(shell find data/nlu data/rules data/stories -name '*.yml' 2>/dev/null) $(SPACY_MODEL)

export RASA_PORT ?= 5005
export ACTION_PORT ?= 5055
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1
export PYTHONDONTWRITEBYTECODE ?= 1

.PHONY: help run shell test unit validate stories eval kb install clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: $(MODEL) kb ## Set up, train if needed, start the action server and Rasa (Ctrl-C stops both)
	@scripts/run.sh

shell: $(MODEL) kb ## Talk to the assistant in the terminal
	@scripts/run.sh --shell

test: validate unit stories ## Set up, then run every test (what CI runs)

unit: $(MODEL) kb ## pytest: unit, action and end-to-end tests
	$(PY) -m pytest

validate: $(INSTALLED) ## Check the training data and domain for conflicts and warnings
	$(RASA) data validate --fail-on-warnings --max-history 5

stories: $(MODEL) kb ## Run the test stories against the trained model
	$(RASA) test core --model $(MODEL) --stories tests/stories --out results/stories --fail-on-prediction-errors --no-plot

eval: $(MODEL) ## Held-out NLU evaluation: accuracy, macro-F1, confusion matrix image
	$(RASA) test nlu --model $(MODEL) --nlu tests/nlu/heldout.yml --out results/nlu
	$(PY) scripts/nlu_report.py results/nlu

kb: $(INSTALLED) ## Validate the knowledge base and load it into DATABASE_URL (no-op when unchanged)
	$(PY) -m bot.knowledge.load

install: $(INSTALLED) ## Create the virtual environment with exactly pinned dependencies

$(INSTALLED): requirements.txt scripts/find-python.sh
	@scripts/install.sh "$(VENV)"
	@touch $@

$(SPACY_MODEL): $(INSTALLED) bot/nlp/pipeline.py bot/nlp/vocabulary.py
	$(PY) -m bot.nlp.pipeline build/spacy-en-commonground

$(MODEL): $(INSTALLED) $(TRAINING_INPUTS)
	$(RASA) train --fixed-model-name commonground --out models
	@touch $@

clean: ## Remove build output, trained models and test results (keeps the virtual environment)
	rm -rf build models results .rasa
