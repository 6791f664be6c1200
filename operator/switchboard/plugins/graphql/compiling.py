"""Compiling a GraphQL schema into tools: `query.<field>` and `mutation.<field>` (subscriptions
listed but not invocable), descriptions, argument schemas with shared `$defs`, annotations, and the
operation document each tool sends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLSchema

from switchboard.models.records import ToolDefinition, ToolSet
from switchboard.plugins.graphql.describing import describe_schema
from switchboard.plugins.graphql.projecting import Projection, project
from switchboard.plugins.graphql.schemas import InputSchemas
from switchboard.plugins.graphql.selecting import (
    DEFAULT_DEPTH,
    Field,
    Selector,
    operation_document,
    operation_name,
)
from switchboard.plugins.graphql.snapshots import LoadedSchema, no_cyclic_gc
from switchboard.plugins.graphql.typerefs import by_name, deprecated, written

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


def tool_description(kind: str, name: str, field: Field) -> str:
    """The field's own description, else `GraphQL <kind>: <field> -> <Type>` (as the reference)."""
    text = (field.get("description") or "").strip()
    text = text or f"GraphQL {kind}: {name} -> {written(field['type'])}"
    reason = field.get("deprecationReason")
    if reason is not None:
        text = f"{text}\n\nDeprecated: {reason.strip() or 'no reason given'}"
    return text


def tool_annotations(kind: str, name: str, field: Field) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if kind == "mutation":
        out = {"requiresApproval": True, "approvalDescription": f"mutation {name}"}
    elif kind == "subscription":
        out = {"invocable": False, "notInvocableReason": NOT_INVOCABLE}
    if deprecated(field):
        out["deprecated"] = True
    return out


def _tool(
    kind: str, name: str, field: Field, inputs: InputSchemas, selector: Selector
) -> ToolDefinition:
    args = by_name(field.get("args"))
    selection = selector.selection_set(field)
    return ToolDefinition(
        name=f"{kind}.{name}",
        description=tool_description(kind, name, field),
        input_schema=inputs.for_arguments(args),
        annotations=tool_annotations(kind, name, field),
        binding={
            "operationType": kind,
            "field": name,
            "operationName": operation_name(name),
            "document": operation_document(kind, name, args, selection),
            "variables": list(args),
        },
    )


def compile_schema(source: GraphQLSchema | LoadedSchema, *, depth: int | None = None) -> Compiled:
    """Every root field as a tool, in schema order; `__`-prefixed fields are skipped. A loaded
    schema compiles at the depth it was loaded for, or shallower; a graphql-core schema at any."""
    with no_cyclic_gc():
        if isinstance(source, GraphQLSchema):
            projection = project(
                describe_schema(source), depth=depth or DEFAULT_DEPTH, field="schema"
            )
        else:
            projection = source.projection
            if depth is not None and depth > projection.depth:
                # A programming error, not bad input: the schema was cut for shallower selections.
                raise ValueError(f"loaded for selections {projection.depth} deep, not {depth}")
        return _compile(projection, depth or projection.depth)


def _compile(projection: Projection, depth: int) -> Compiled:
    types = projection.types
    inputs = InputSchemas(types)
    selector = Selector(types, depth)
    tools: list[ToolDefinition] = []
    counts = dict.fromkeys(KINDS, 0)
    for kind in KINDS:
        root = projection.roots.get(kind)
        if root is None:
            continue
        for name, field in by_name(types[root]["fields"]).items():
            if name.startswith("__"):
                continue
            tools.append(_tool(kind, name, field, inputs, selector))
            counts[kind] += 1
    return Compiled(
        toolset=ToolSet(tools=tools, definitions=inputs.definitions),
        queries=counts["query"],
        mutations=counts["mutation"],
        subscriptions=counts["subscription"],
        types=projection.declared,
    )
