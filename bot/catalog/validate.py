"""A tiny typed reader over parsed YAML that records every problem with its path.

Validation keeps going after an error so an org fixing its content sees every problem at once,
each as `file: path.inside: what is wrong`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

T = TypeVar("T")

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MISSING = object()


def describe(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "true/false",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


@dataclass
class Problems:
    """Collects `file: path: message` lines."""

    lines: list[str] = field(default_factory=list)

    def add(self, file: str, path: str, message: str) -> None:
        where = f"{file}: {path}: " if path else f"{file}: "
        self.lines.append(where + message)

    def __bool__(self) -> bool:
        return bool(self.lines)


@dataclass
class Node:
    """A value in a YAML document, with where it sits, for precise error messages."""

    value: Any
    file: str
    path: str
    problems: Problems

    def child(self, key: str | int, value: Any) -> "Node":
        if isinstance(key, int):
            path = f"{self.path}[{key}]"
        else:
            path = f"{self.path}.{key}" if self.path else key
        return Node(value, self.file, path, self.problems)

    def error(self, message: str) -> None:
        self.problems.add(self.file, self.path, message)

    # -- mappings -----------------------------------------------------------------------------

    def is_mapping(self) -> bool:
        if isinstance(self.value, dict):
            return True
        self.error(f"expected a mapping, got {describe(self.value)}")
        return False

    def check_keys(self, allowed: set[str]) -> None:
        if not isinstance(self.value, dict):
            return
        for key in self.value:
            if key not in allowed:
                self.child(str(key), None).error(
                    f"unknown field (expected one of: {', '.join(sorted(allowed))})"
                )

    def get(self, key: str, required: bool = False) -> "Node | None":
        if not isinstance(self.value, dict):
            return None
        value = self.value.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.child(key, None).error("is required")
            return None
        return self.child(key, value)

    # -- scalars ------------------------------------------------------------------------------

    def text(self) -> str | None:
        if isinstance(self.value, str) and self.value.strip():
            return self.value
        if isinstance(self.value, str):
            self.error("must not be empty")
        else:
            self.error(f"expected a string, got {describe(self.value)}")
        return None

    def identifier(self) -> str | None:
        value = self.text()
        if value is not None and not ID_PATTERN.match(value):
            self.error(f"{value!r} is not a valid id (lowercase letters, digits and dashes)")
            return None
        return value

    def boolean(self) -> bool | None:
        if isinstance(self.value, bool):
            return self.value
        self.error(f"expected true or false, got {describe(self.value)}")
        return None

    def integer(self) -> int | None:
        if isinstance(self.value, int) and not isinstance(self.value, bool):
            return self.value
        self.error(f"expected a whole number, got {describe(self.value)}")
        return None

    # -- lists --------------------------------------------------------------------------------

    def items(self) -> list["Node"]:
        if not isinstance(self.value, list):
            self.error(f"expected a list, got {describe(self.value)}")
            return []
        return [self.child(i, v) for i, v in enumerate(self.value)]

    def texts(self) -> tuple[str, ...]:
        return tuple(t for t in (n.text() for n in self.items()) if t is not None)

    def texts_or_text(self) -> tuple[str, ...]:
        """A list of strings, or one string (a common shorthand for single aliases)."""
        if isinstance(self.value, str):
            return (self.value,)
        return self.texts()

    def each(self, build: Callable[["Node"], T | None]) -> tuple[T, ...]:
        return tuple(b for b in (build(n) for n in self.items()) if b is not None)


def optional(node: Node | None, read: Callable[[Node], T | None], default: T) -> T:
    if node is None:
        return default
    value = read(node)
    return default if value is None else value


def unique_ids(nodes_and_ids: list[tuple[Node, str]], what: str) -> None:
    seen: set[str] = set()
    for node, ident in nodes_and_ids:
        if ident in seen:
            node.error(f"duplicate {what} id {ident!r}")
        seen.add(ident)
