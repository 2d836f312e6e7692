"""Block Kit objects to the JSON Slack gets: what `block.to_dict()` returns, checked by the same
slack_sdk validators, for a fraction of its cost.

slack_sdk's `to_dict` looks up each object's validators, then builds its dict by asking every
attribute, through two layers of closures, whether it is empty. A page of someone's own log
(about 200 objects: a section per answer, its privacy and Delete buttons, the confirm dialog)
took 2.6 ms of the 5 ms `/growth log` costs before its ack, and every answer waits on it under
load. Here each class's validators and serialization path are looked up once. The validators
are slack_sdk's own, run in the order `validate_json` runs them, so a block over Slack's limits
raises the same `SlackObjectFormationError`. A class with its own `to_dict` (confirm dialogs,
options) is left to it. tests/blocks/test_serialize.py holds the output equal to `to_dict`'s
for every kind of message the bot builds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from slack_sdk.models.basic_objects import EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST, JsonObject, _class_validator_names

_EMPTY_ALLOWED = frozenset((allowed["type"], allowed["property"]) for allowed in EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST)


def block_dicts(blocks: Iterable[Any]) -> list[Any]:
    """`[block.to_dict() for block in blocks]`; a block that is already a dict passes as it is."""
    return [_value(block) for block in blocks]


@lru_cache(maxsize=None)
def _plan(cls: type) -> tuple[tuple[Any, ...], bool]:
    """The class's validators in `validate_json`'s (sorted-name) order, and whether it serializes
    the base JsonObject way (else its own `to_dict` is called)."""
    validators = tuple(getattr(cls, name) for name in sorted(_class_validator_names(cls)))
    plain = (cls.to_dict is JsonObject.to_dict and cls.get_non_null_attributes is JsonObject.get_non_null_attributes
             and cls.get_object_attribute is JsonObject.get_object_attribute and cls.validate_json is JsonObject.validate_json)
    return validators, plain


def _object(obj: JsonObject) -> dict[str, Any]:
    validators, plain = _plan(type(obj))
    if not plain:
        return {key: _value(value) for key, value in obj.to_dict().items()}
    for validate in validators:
        validate(obj)
    kind = getattr(obj, "type", None)
    found: dict[str, Any] = {}
    for key in sorted(obj.attributes):
        value = getattr(obj, key, None)
        if value is None:
            continue
        if hasattr(value, "__len__") and len(value) == 0 and (kind, key) not in _EMPTY_ALLOWED:
            continue
        found[key] = _value(value)
    return found


def _value(value: Any) -> Any:
    if isinstance(value, JsonObject):
        return _object(value)
    if isinstance(value, (list, tuple)):
        return [_value(item) for item in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return {key: _value(item) for key, item in to_dict().items()}
    return value


def message_dicts(messages: Sequence[Iterable[Any]]) -> list[list[Any]]:
    """Each message's blocks as `block_dicts`."""
    return [block_dicts(blocks) for blocks in messages]
