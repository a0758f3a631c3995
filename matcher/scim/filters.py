"""SCIM filters (RFC 7644 §3.4.2.2) as SQL: the filter is parsed by scim2-models, and the
attributes a resource type lists here become conditions. Anything else is invalidFilter."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from scim2_models import InvalidFilterException, ScimFilter
from scim2_models.path import (
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
)
from sqlalchemy import ColumnElement, and_, false, func, not_, or_

# Text comparisons; the others (gt, ge, lt, le) are refused.
_TEXT_OPERATORS = (
    CompareOperator.eq,
    CompareOperator.ne,
    CompareOperator.co,
    CompareOperator.sw,
    CompareOperator.ew,
)


@dataclass(frozen=True)
class Attribute:
    """How one attribute is filtered: its SQL expression and kind.

    kind: "text" (case-insensitive), "exact" (case-exact text: eq and ne), "boolean", "id"
    (a resource id: eq and ne), or "custom" (build makes the condition for eq).
    """

    expression: Any
    kind: str
    build: Callable[[str], ColumnElement[bool]] | None = None


def condition(
    text: str, attributes: Mapping[str, Attribute], schemas: tuple[str, ...]
) -> ColumnElement[bool]:
    """The SQL condition for a filter; InvalidFilterException for one it cannot answer.

    attributes: lower-cased names ("username", "emails.value"), an extension's prefixed by
    its schema ("urn:...:user:department"); schemas: the resource's, then its extensions'."""
    if len(text) > 2000:
        raise InvalidFilterException(filter=text, detail="The filter is too long.")
    node = ScimFilter(text).ast
    return _Translator(attributes, tuple(s.lower() for s in schemas), text).clause(node)


@dataclass(frozen=True)
class _Translator:
    attributes: Mapping[str, Attribute]
    schemas: tuple[str, ...]
    text: str

    def refuse(self, detail: str) -> InvalidFilterException:
        return InvalidFilterException(filter=self.text, detail=detail)

    def clause(self, node: FilterNode) -> ColumnElement[bool]:
        if isinstance(node, LogicalExpr):
            parts = [self.clause(term) for term in node.terms]
            return and_(*parts) if node.op == LogicalOperator.and_ else or_(*parts)
        if isinstance(node, Not):
            return not_(self.clause(node.expr))
        if isinstance(node, Present):
            name, attribute = self.attribute(node.attr_path)
            if attribute.kind == "custom":
                raise self.refuse(f"{name} cannot be tested with pr.")
            present = attribute.expression.is_not(None)
            if attribute.kind in ("text", "exact"):
                present = and_(present, attribute.expression != "")
            return present
        if isinstance(node, Comparison):
            return self.comparison(node)
        raise self.refuse("Filters on values of multi-valued attributes are not supported.")

    def attribute(self, path: Any) -> tuple[str, Attribute]:
        """The attribute a path names: a core one by name, an extension's as "urn:name"."""
        uri = (path.uri or "").lower()
        name = path.attr + (f".{path.sub_attr}" if path.sub_attr else "")
        if uri and uri not in self.schemas:
            raise self.refuse(f"Filtering on {path} is not supported.")
        key = name.lower() if not uri or uri == self.schemas[0] else f"{uri}:{name.lower()}"
        attribute = self.attributes.get(key)
        if attribute is None:
            raise self.refuse(f"Filtering on {name} is not supported.")
        return name, attribute

    def comparison(self, node: Comparison) -> ColumnElement[bool]:
        name, attribute = self.attribute(node.attr_path)
        op, value = node.op, node.value
        if attribute.kind == "boolean":
            if op not in (CompareOperator.eq, CompareOperator.ne) or not isinstance(value, bool):
                raise self.refuse(f"{name} is compared with eq or ne and true or false.")
            matched = attribute.expression == value
            return matched if op == CompareOperator.eq else not_(matched)
        if not isinstance(value, str):
            raise self.refuse(f"{name} is compared with a string.")
        if attribute.kind in ("id", "custom", "exact") and op not in (
            CompareOperator.eq,
            CompareOperator.ne,
        ):
            raise self.refuse(f"{name} is compared with eq or ne.")
        if op not in _TEXT_OPERATORS:
            raise self.refuse(f"{op.value} is not supported; use eq, ne, co, sw, ew or pr.")
        if attribute.kind == "custom":
            assert attribute.build is not None
            matched = attribute.build(value)
        elif attribute.kind == "id":
            matched = _id_equals(attribute.expression, value)
        elif attribute.kind == "exact":
            matched = attribute.expression == value
        else:
            matched = _text(attribute.expression, op, value)
        if op == CompareOperator.ne:
            return or_(attribute.expression.is_(None), not_(matched))
        return matched


def _id_equals(column: Any, value: str) -> ColumnElement[bool]:
    number = parse_id(value)
    return column == number if number is not None else false()


def parse_id(value: str) -> int | None:
    """A resource id as a database id, or None when it cannot be one."""
    text = value.strip()
    if not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= 2**31 - 1 else None


def _text(column: Any, op: CompareOperator, value: str) -> ColumnElement[bool]:
    lowered = func.lower(column)
    wanted = value.lower()
    if op in (CompareOperator.eq, CompareOperator.ne):
        return lowered == wanted
    escaped = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = {
        CompareOperator.co: f"%{escaped}%",
        CompareOperator.sw: f"{escaped}%",
        CompareOperator.ew: f"%{escaped}",
    }[op]
    return lowered.like(pattern, escape="\\")
