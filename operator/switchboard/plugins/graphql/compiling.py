"""Compiling a GraphQL schema into tools: `query.<field>` and `mutation.<field>` (subscriptions
listed but not invocable), descriptions, argument schemas with shared `$defs`, annotations, and the
operation document each tool sends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema

from switchboard.models.records import ToolDefinition, ToolSet
from switchboard.plugins.graphql.schemas import InputSchemas
from switchboard.plugins.graphql.selecting import (
    Selector,
    operation_document,
    operation_name,
)
from switchboard.plugins.graphql.snapshots import LoadedSchema, no_cyclic_gc

KINDS = ("query", "mutation", "subscription")
NOT_INVOCABLE = "subscriptions stream events over a long-lived transport; a tool call cannot"


@dataclass
class Compiled:
    """Tools plus the counts that status reports."""

    toolset: ToolSet
    queries: int
    mutations: int
    subscriptions: int
    types: int

    @property
    def details(self) -> dict[str, int]:
        return {
            "queries": self.queries,
            "mutations": self.mutations,
            "subscriptions": self.subscriptions,
            "types": self.types,
        }


def tool_description(kind: str, name: str, field: GraphQLField) -> str:
    """The field's own description, else `GraphQL <kind>: <field> -> <Type>` (as the reference)."""
    text = (field.description or "").strip() or f"GraphQL {kind}: {name} -> {field.type}"
    if field.deprecation_reason is not None:
        reason = field.deprecation_reason.strip() or "no reason given"
        text = f"{text}\n\nDeprecated: {reason}"
    return text


def tool_annotations(kind: str, name: str, field: GraphQLField) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if kind == "mutation":
        out = {"requiresApproval": True, "approvalDescription": f"mutation {name}"}
    elif kind == "subscription":
        out = {"invocable": False, "notInvocableReason": NOT_INVOCABLE}
    if field.deprecation_reason is not None:
        out["deprecated"] = True
    return out


def _tool(
    kind: str, name: str, field: GraphQLField, inputs: InputSchemas, selector: Selector
) -> ToolDefinition:
    selection = selector.selection_set(field)
    return ToolDefinition(
        name=f"{kind}.{name}",
        description=tool_description(kind, name, field),
        input_schema=inputs.for_arguments(field.args),
        annotations=tool_annotations(kind, name, field),
        binding={
            "operationType": kind,
            "field": name,
            "operationName": operation_name(name),
            "document": operation_document(kind, name, field, selection),
            "variables": list(field.args),
        },
    )


def _root(schema: GraphQLSchema, kind: str) -> GraphQLObjectType | None:
    root: GraphQLObjectType | None = getattr(schema, f"{kind}_type")
    return root


def compile_schema(source: GraphQLSchema | LoadedSchema, *, depth: int | None = None) -> Compiled:
    """Every root field as a tool, in schema order; `__`-prefixed fields are skipped. A loaded
    schema compiles at the depth it was loaded for (or shallower)."""
    if isinstance(source, GraphQLSchema):
        schema = source
        types = sum(1 for name in schema.type_map if not name.startswith("__"))
    else:
        schema, types = source.schema, source.types
        if depth is None:
            depth = source.depth
        elif source.depth is not None and depth > source.depth:
            # A programming error, not bad input: the schema was cut for shallower selections.
            raise ValueError(f"loaded for selections {source.depth} deep, not {depth}")
    with no_cyclic_gc():
        return _compile(schema, depth, types)


def _compile(schema: GraphQLSchema, depth: int | None, types: int) -> Compiled:
    inputs = InputSchemas()
    selector = Selector(depth) if depth else Selector()
    tools: list[ToolDefinition] = []
    counts = dict.fromkeys(KINDS, 0)
    for kind in KINDS:
        root = _root(schema, kind)
        if root is None:
            continue
        for name, field in root.fields.items():
            if name.startswith("__"):
                continue
            tools.append(_tool(kind, name, field, inputs, selector))
            counts[kind] += 1
    return Compiled(
        toolset=ToolSet(tools=tools, definitions=inputs.definitions),
        queries=counts["query"],
        mutations=counts["mutation"],
        subscriptions=counts["subscription"],
        types=types,
    )
