"""Fixes for three Rasa 3.6 performance problems, installed when the Rasa server builds our stores.

- Rasa checks every action server response with `jsonschema.validate(response, schema)`, which first
  re-checks the constant schema itself against the JSON Schema meta-schema: with jsonschema 4.17
  that took about 35-45 % of the Rasa server's CPU time per message in `make bench`. `install()`
  swaps in the same check with one validator built (and its schema checked) once per process, which
  also skips events it has already seen pass (each event is checked against every event type's
  schema: 7 % of the CPU time even with the validator built once).
- `Event.resolve_by_type` walks the whole tree of event classes for every event it turns back into
  an object (about 0.07 ms each, so 5.5 of the 6.7 ms of rebuilding an 80-event tracker from its
  stored events). `install()` swaps in the same lookup through a table, rebuilt when a class is
  missing from it.
- Rasa runs its model graph (once to understand a message, once per predicted action) with dask's
  general scheduler, whose bookkeeping (ordering, queues, callbacks) took 10 % of the server's CPU
  time per message for graphs of a dozen nodes. `install()` runs the same graph with dask's own
  reference scheduler (`dask.core.get`: every node in dependency order, in the calling thread, as
  the general one does with one worker), and reuses the pruned graph for the same targets.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple, Type

import dask.core
from jsonschema import validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from rasa.core.actions.action import RemoteAction
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

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


MAX_REMEMBERED_EVENTS = 4096
_VALID_EVENTS: "OrderedDict[str, None]" = OrderedDict()


def _event_key(event: Any) -> str:
    """A canonical text of one event from a response (responses are parsed JSON, so this cannot fail)."""
    return json.dumps(event, sort_keys=True)


def _event_keys(result: Any) -> Optional[List[str]]:
    """The canonical texts of a response's events; None when `result` is not an object with an event list."""
    if not isinstance(result, dict) or not isinstance(result.get("events", []), list):
        return None
    return [_event_key(event) for event in result.get("events", [])]


def _known_valid(result: Dict[str, Any], event_keys: List[str]) -> bool:
    """Whether `result` is valid judging by events seen valid before, checking only the rest anew.

    Exact because the schema checks each event on its own (`items`) and apart from the other keys
    (`properties`): the response with its events replaced by none is valid exactly when the rest is.
    """
    if not all(key in _VALID_EVENTS for key in event_keys):
        return False
    return action_response_validator().is_valid({**result, "events": []})


def _remember_valid_events(event_keys: List[str]) -> None:
    """Note the events of a response that passed the full check."""
    for key in event_keys:
        _VALID_EVENTS[key] = None
    while len(_VALID_EVENTS) > MAX_REMEMBERED_EVENTS:
        _VALID_EVENTS.popitem(last=False)


def validate_action_result(_action: RemoteAction, result: Dict[str, Any]) -> bool:
    """Rasa's check of an action server response (same error as `jsonschema.validate`), minus the re-check.

    Events already seen valid (the same slot set again, say) are not checked against the ~25 event
    schemas again.
    """
    event_keys = _event_keys(result)
    if event_keys is not None and _known_valid(result, event_keys):
        return True
    error = best_match(action_response_validator().iter_errors(result))
    if error is not None:
        error.message += INVALID_RESPONSE_HINT
        raise error
    _remember_valid_events(event_keys or [])
    return True


_EVENT_CLASSES: Dict[str, Type[Event]] = {}
_RASA_RESOLVE_BY_TYPE = Event.resolve_by_type


def _index_event_classes() -> None:
    """Fill the type-name table; the first class in Rasa's search order wins, as in Rasa."""
    table: Dict[str, Type[Event]] = {}
    for cls in all_subclasses(Event):
        table.setdefault(cls.type_name, cls)
    _EVENT_CLASSES.clear()
    _EVENT_CLASSES.update(table)


def resolve_event_type(type_name: str, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """Rasa's `Event.resolve_by_type` (same results and errors) through a table instead of a class walk."""
    cls = _EVENT_CLASSES.get(type_name)
    if cls is None:
        _index_event_classes()  # a class defined since the last lookup, or an unknown name
        cls = _EVENT_CLASSES.get(type_name)
    if cls is not None:
        return cls
    return _RASA_RESOLVE_BY_TYPE(type_name, default)


_RASA_RUN_GRAPH = DaskGraphRunner.run


def _pruned_schema(runner: DaskGraphRunner, targets: Tuple[str, ...]) -> GraphSchema:
    """The part of the runner's graph the targets need, computed once per set of targets."""
    pruned: Dict[Tuple[str, ...], GraphSchema] = runner.__dict__.setdefault("_commonground_pruned", {})
    if targets not in pruned:
        pruned[targets] = runner._graph_schema.minimal_graph_schema(list(targets))
    return pruned[targets]


def run_graph(
    self: DaskGraphRunner, inputs: Optional[Dict[str, Any]] = None, targets: Optional[List[str]] = None
) -> Dict[str, Any]:
    """Rasa's `DaskGraphRunner.run` (same graph, inputs, results and errors) on dask's reference scheduler."""
    run_targets = targets if targets else self._graph_schema.target_names
    dask_graph = self._build_dask_graph(_pruned_schema(self, tuple(run_targets)))
    if inputs:
        self._add_inputs_to_graph(inputs, dask_graph)
    try:
        return dict(dask.core.get(dask_graph, list(run_targets)))
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error


def install() -> None:
    """Swap in the fixes (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_event_type)  # type: ignore[method-assign,assignment]
    DaskGraphRunner.run = run_graph  # type: ignore[method-assign]

