"""The prebuilt validator for action server responses behaves like Rasa's own check, only faster."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import jsonschema
import pytest
from jsonschema import validators
from rasa.core.actions.action import RemoteAction

from bot import rasa_fixes

ACTION = RemoteAction("action_explain_topic", None)

VALID: List[Dict[str, Any]] = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "topic", "value": "mediation"}], "responses": [{"text": "hi", "custom": {}}]},
]
INVALID: List[Dict[str, Any]] = [
    {"events": "not a list"},
    {"responses": [1]},
    {"events": [{"event": 3}]},
    {"events": [{"event": "slot"}]},
    {"events": [{"event": "no_such_event"}]},
]


@pytest.fixture
def fresh_validator() -> Iterator[None]:
    """Each test builds the cached validator itself; Rasa's own method is restored afterwards."""
    original = RemoteAction._validate_action_result
    rasa_fixes.action_response_validator.cache_clear()
    yield
    RemoteAction._validate_action_result = original  # type: ignore[method-assign]
    rasa_fixes.action_response_validator.cache_clear()


@pytest.mark.parametrize("response", VALID)
def test_valid_responses_pass(fresh_validator: None, response: Dict[str, Any]) -> None:
    """A response Rasa accepts is accepted."""
    assert rasa_fixes.validate_action_result(ACTION, response) is True


@pytest.mark.parametrize("response", INVALID)
def test_invalid_responses_fail_with_rasas_error(fresh_validator: None, response: Dict[str, Any]) -> None:
    """A response Rasa rejects raises the error `jsonschema.validate` gives, with Rasa's hint."""
    with pytest.raises(jsonschema.ValidationError) as expected:
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as raised:
        rasa_fixes.validate_action_result(ACTION, response)
    assert raised.value.message == expected.value.message + rasa_fixes.INVALID_RESPONSE_HINT


def test_schema_is_checked_once_for_many_responses(fresh_validator: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The response schema is checked against the meta-schema once, not once per response."""
    validator_class = validators.validator_for(RemoteAction.action_response_format_spec())
    check_schema = validator_class.check_schema
    checks: List[Dict[str, Any]] = []

    def counting_check(cls: type, schema: Dict[str, Any], *args: Any, **kwargs: Any) -> None:
        checks.append(schema)
        check_schema(schema, *args, **kwargs)

    monkeypatch.setattr(validator_class, "check_schema", classmethod(counting_check))
    for _ in range(5):
        for response in VALID:
            rasa_fixes.validate_action_result(ACTION, response)
    assert len(checks) == 1


def test_install_replaces_rasas_check(fresh_validator: None) -> None:
    """After install(), Rasa's remote actions use the prebuilt validator, and installing twice is harmless."""
    rasa_fixes.install()
    rasa_fixes.install()
    assert ACTION._validate_action_result(VALID[2]) is True
    with pytest.raises(jsonschema.ValidationError):
        ACTION._validate_action_result(INVALID[0])
    assert RemoteAction._validate_action_result is rasa_fixes.validate_action_result
