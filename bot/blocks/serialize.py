"""Block Kit objects to the JSON Slack gets: what `block.to_dict()` returns, checked by the same
slack_sdk validators, for a fraction of its cost.

slack_sdk's `to_dict` looks up each object's validators, then builds its dict by asking every
attribute, through two layers of closures, whether it is empty. A page of someone's own log
(about 200 objects: a section per answer, its privacy and Delete buttons, the confirm dialog)
took 2.6 ms of the 5 ms `/growth log` costs before its ack, and every answer waits on it under
load. Here each class's validators and serialization path are looked up once. The validators
are slack_sdk's own, run in the order `validate_json` runs them, so a block over Slack's limits
raises the same `SlackObjectFormationError`. A class with its own `to_dict` (options) is left to
it, except the confirm dialog, whose `to_dict` is rebuilt here (one on every Delete button). tests/blocks/test_serialize.py holds the output equal to `to_dict`'s
for every kind of message the bot builds.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from slack_sdk.models.basic_objects import EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST, JsonObject, _class_validator_names
from slack_sdk.models.blocks import ConfirmObject

_EMPTY_ALLOWED = frozenset((allowed["type"], allowed["property"]) for allowed in EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST)


def block_dicts(blocks: Iterable[Any]) -> list[Any]:
    """`[block.to_dict() for block in blocks]`; a block that is already a dict passes as it is."""
    return [block if isinstance(block, dict) else _value(block) for block in blocks]


_SCALAR, _SEQUENCE, _PLAIN, _CONFIRM, _OWN = range(5)
_CONFIRM_PARTS = (("title", "_title"), ("text", "_text"), ("confirm", "_confirm"), ("deny", "_deny"))


@lru_cache(maxsize=None)
def _kind(cls: type) -> int:
    """How values of `cls` serialize. Decided once per class: isinstance against JsonObject (an
    ABC) cost more than anything else here when asked for every value."""
    if issubclass(cls, (list, tuple)):
        return _SEQUENCE
    if issubclass(cls, JsonObject):
        if cls.to_dict is ConfirmObject.to_dict and cls.validate_json is JsonObject.validate_json:
            return _CONFIRM
        plain = (cls.to_dict is JsonObject.to_dict and cls.validate_json is JsonObject.validate_json
                 and cls.get_non_null_attributes is JsonObject.get_non_null_attributes
                 and cls.get_object_attribute is JsonObject.get_object_attribute)
        return _PLAIN if plain else _OWN
    return _OWN if callable(getattr(cls, "to_dict", None)) else _SCALAR


@lru_cache(maxsize=None)
def _validators(cls: type) -> tuple[Any, ...]:
    """The class's validators in `validate_json`'s (sorted-name) order."""
    return tuple(getattr(cls, name) for name in sorted(_class_validator_names(cls)))


def _value(value: Any) -> Any:
    kind = _kind(type(value))
    if kind == _SCALAR:
        return value
    if kind == _SEQUENCE:
        return [_value(item) for item in value]
    if kind == _PLAIN:
        return _plain(value)
    if kind == _CONFIRM:
        return _confirm(value)
    return {key: _value(item) for key, item in value.to_dict().items()}


def _plain(obj: JsonObject) -> dict[str, Any]:
    for validate in _validators(type(obj)):
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


def _confirm(confirm: ConfirmObject) -> dict[str, Any]:
    # ConfirmObject.to_dict() (for blocks) as it is written: its validators, then each text object
    # it keeps, then the style; rebuilt here because its own calls each part's to_dict the slow way.
    for validate in _validators(type(confirm)):
        validate(confirm)
    found: dict[str, Any] = {key: _value(part) for key, attribute in _CONFIRM_PARTS
                             if (part := getattr(confirm, attribute))}
    if confirm._style:
        found["style"] = confirm._style
    return found
