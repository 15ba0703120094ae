"""A fix for a Rasa 3.6 performance problem, installed when the Rasa server builds our stores.

Rasa checks every action server response with `jsonschema.validate(response, schema)`, which first
re-checks the constant schema itself against the JSON Schema meta-schema: with jsonschema 4.17 that
took about 35-45 % of the Rasa server's CPU time per message in `make bench`. `install()` swaps in
the same check with one validator built (and its schema checked) once per process.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict

from jsonschema import validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

# Rasa's own hint, appended to the message as its `_validate_action_result` does.
INVALID_RESPONSE_HINT = (
    ". Failed to validate Action server response from API, make sure your response from the Action "
    f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
)


@lru_cache(maxsize=None)
def action_response_validator() -> Validator:
    """The validator for action server responses; its schema is checked once, here."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(_action: RemoteAction, result: Dict[str, Any]) -> bool:
    """Rasa's check of an action server response (same error as `jsonschema.validate`), minus the re-check."""
    error = best_match(action_response_validator().iter_errors(result))
    if error is not None:
        error.message += INVALID_RESPONSE_HINT
        raise error
    return True


def install() -> None:
    """Make Rasa validate action server responses with the prebuilt validator (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]

