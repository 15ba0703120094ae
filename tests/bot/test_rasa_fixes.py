"""Our faster versions of two Rasa checks behave like Rasa's own: the response validator and the event lookup."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import jsonschema
import pytest
from jsonschema import validators
from rasa.core.actions.action import RemoteAction
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

from bot import rasa_fixes

ACTION = RemoteAction("action_explain_topic", None)

VALID: List[Dict[str, Any]] = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "topic", "value": "mediation"}], "responses": [{"text": "hi", "custom": {}}]},
]
SLOT_EVENT = {"event": "slot", "name": "topic", "value": "mediation"}
INVALID: List[Any] = [
    {"events": "not a list"},
    {"responses": [1]},
    {"events": [{"event": 3}]},
    {"events": [{"event": "slot"}]},
    {"events": [{"event": "no_such_event"}]},
    # events seen valid before, in a response that is wrong elsewhere
    {"events": [SLOT_EVENT], "responses": "not a list"},
    {"events": [SLOT_EVENT, {"event": "slot", "name": 3}]},
    {"events": [SLOT_EVENT], "responses": [{"text": "hi"}, "not an object"]},
    [SLOT_EVENT],
]


@pytest.fixture
def fresh_validator() -> Iterator[None]:
    """Each test builds the cached validator itself; Rasa's own method is restored afterwards."""
    original = RemoteAction._validate_action_result
    rasa_fixes.action_response_validator.cache_clear()
    rasa_fixes._VALID_EVENTS.clear()
    yield
    RemoteAction._validate_action_result = original  # type: ignore[method-assign]
    rasa_fixes.action_response_validator.cache_clear()
    rasa_fixes._VALID_EVENTS.clear()


@pytest.mark.parametrize("response", VALID)
def test_valid_responses_pass(fresh_validator: None, response: Dict[str, Any]) -> None:
    """A response Rasa accepts is accepted."""
    assert rasa_fixes.validate_action_result(ACTION, response) is True


@pytest.mark.parametrize("seen_valid_responses", [False, True])
@pytest.mark.parametrize("response", INVALID)
def test_invalid_responses_fail_with_rasas_error(fresh_validator: None, response: Any, seen_valid_responses: bool) -> None:
    """A response Rasa rejects raises the error `jsonschema.validate` gives, with Rasa's hint."""
    if seen_valid_responses:
        for valid in VALID:
            rasa_fixes.validate_action_result(ACTION, valid)
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


def test_events_seen_valid_are_not_checked_again(fresh_validator: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A response whose events all passed before skips the full check; a new event brings it back."""
    full_checks: List[Any] = []
    real_best_match = rasa_fixes.best_match
    monkeypatch.setattr(rasa_fixes, "best_match", lambda errors: full_checks.append(1) or real_best_match(errors))
    response = {"events": [SLOT_EVENT], "responses": [{"text": "hi", "custom": {}}]}
    for _ in range(3):
        assert rasa_fixes.validate_action_result(ACTION, response) is True
    assert len(full_checks) == 1
    rasa_fixes.validate_action_result(ACTION, {"events": [SLOT_EVENT, {"event": "slot", "name": "fact", "value": "yes"}]})
    assert len(full_checks) == 2


def test_install_replaces_rasas_check(fresh_validator: None) -> None:
    """After install(), Rasa's remote actions use the prebuilt validator, and installing twice is harmless."""
    rasa_fixes.install()
    rasa_fixes.install()
    assert ACTION._validate_action_result(VALID[2]) is True
    with pytest.raises(jsonschema.ValidationError):
        ACTION._validate_action_result(INVALID[0])
    assert RemoteAction._validate_action_result is rasa_fixes.validate_action_result


RASA_RESOLVE_BY_TYPE = rasa_fixes._RASA_RESOLVE_BY_TYPE


@pytest.mark.parametrize("type_name", sorted({cls.type_name for cls in all_subclasses(Event)}))
def test_event_lookup_finds_the_class_rasa_finds(type_name: str) -> None:
    """Every event type name resolves to the class Rasa's own walk returns."""
    assert rasa_fixes.resolve_event_type(type_name) is RASA_RESOLVE_BY_TYPE(type_name)


@pytest.mark.parametrize(
    "type_name, default, expected",
    [("topic", None, None), ("no_such_event", SlotSet, SlotSet), ("user", SlotSet, UserUttered)],
)
def test_event_lookup_keeps_rasas_special_cases(type_name: str, default: Any, expected: Any) -> None:
    """Rasa's legacy `topic` events, defaults for unknown names, and defaults ignored for known ones."""
    assert rasa_fixes.resolve_event_type(type_name, default) is expected


def test_event_lookup_rejects_unknown_names_like_rasa() -> None:
    """An unknown name without a default raises Rasa's ValueError."""
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        rasa_fixes.resolve_event_type("no_such_event")


def test_event_lookup_sees_classes_defined_later() -> None:
    """An event class defined after the table was built is still found."""
    rasa_fixes.resolve_event_type("action")

    class ReminderSeen(ActionExecuted):
        type_name = "test_reminder_seen"

    assert rasa_fixes.resolve_event_type("test_reminder_seen") is ReminderSeen


def test_install_makes_rasa_use_the_event_lookup() -> None:
    """After install(), events deserialised by Rasa go through the table."""
    rasa_fixes.install()
    event = Event.from_parameters({"event": "slot", "name": "topic", "value": "mediation"})
    assert event == SlotSet("topic", "mediation", timestamp=event.timestamp)
    assert Event.resolve_by_type is rasa_fixes.resolve_event_type


class Doubler(GraphComponent):
    """A toy graph component: doubles a number, fails on negative ones."""

    @classmethod
    def create(
        cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> "Doubler":
        """Rasa's constructor for graph components."""
        return cls()

    def double(self, number: int) -> int:
        """Twice the number."""
        if number < 0:
            raise RuntimeError("negative")
        return 2 * number

    def add(self, left: int, right: int) -> int:
        """The sum of two parents' outputs."""
        return left + right


def toy_runner(tmp_path: Any) -> DaskGraphRunner:
    """A runner over input -> a, b (both double it) -> total (adds them), plus an unrelated node."""

    def node(needs: Dict[str, str], fn: str) -> SchemaNode:
        return SchemaNode(needs=needs, uses=Doubler, constructor_name="create", fn=fn, config={})

    schema = GraphSchema(
        {
            "a": node({"number": "__number__"}, "double"),
            "b": node({"number": "__number__"}, "double"),
            "total": node({"left": "a", "right": "b"}, "add"),
            "unrelated": node({"number": "__other__"}, "double"),
        }
    )
    return DaskGraphRunner(schema, LocalModelStorage(tmp_path), ExecutionContext(schema, "toy"))


@pytest.mark.parametrize(
    "inputs, targets",
    [
        ({"__number__": 3}, ["total"]),
        ({"__number__": 3}, ["a", "total"]),
        ({"__number__": 3, "__other__": 5}, ["total", "unrelated"]),
        ({"__number__": 0}, ["b"]),
    ],
)
def test_graph_runs_give_rasas_results(tmp_path: Any, inputs: Dict[str, int], targets: List[str]) -> None:
    """The same graph, inputs and targets give the same results as Rasa's dask scheduler, twice in a row."""
    runner = toy_runner(tmp_path)
    expected = rasa_fixes._RASA_RUN_GRAPH(runner, inputs, targets)
    assert rasa_fixes.run_graph(runner, inputs, targets) == expected
    assert rasa_fixes.run_graph(runner, inputs, targets) == expected


def test_graph_run_failures_raise_rasas_error(tmp_path: Any) -> None:
    """A failing component raises the exception Rasa's runner raises."""
    runner = toy_runner(tmp_path)
    with pytest.raises(Exception) as expected:
        rasa_fixes._RASA_RUN_GRAPH(runner, {"__number__": -1}, ["total"])
    with pytest.raises(type(expected.value)) as raised:
        rasa_fixes.run_graph(runner, {"__number__": -1}, ["total"])
    assert str(raised.value) == str(expected.value)


def test_install_makes_rasa_run_graphs_with_the_reference_scheduler(tmp_path: Any) -> None:
    """After install(), Rasa's runner uses our scheduler and still computes the graph."""
    rasa_fixes.install()
    assert DaskGraphRunner.run is rasa_fixes.run_graph
    assert toy_runner(tmp_path).run({"__number__": 4}, ["total"]) == {"total": 16}
