"""Compiling OpenAPI operations into tool definitions: input schema from parameters and request
body, output schema from the success response, approval annotations, invocation bindings.

Schemas are shared with the parsed document, never copied: their refs already point at
`#/$defs/X` (rewritten on the raw bytes), and `components.schemas` is the integration's `$defs`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from switchboard.errors import SpecParseError
from switchboard.models.records import ToolDefinition
from switchboard.plugins.openapi.naming import OperationKey, fallback_operation_id, name_tools
from switchboard.plugins.openapi.refs import Resolver
from switchboard.plugins.openapi.servers import Server, parse_servers, server_input

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
MUTATING = frozenset({"post", "put", "patch", "delete"})
STRING = {"type": "string"}
BINARY_MEDIA = ("application/octet-stream", "application/pdf", "image/", "audio/", "video/")
Accepts = Callable[[Any], list[str]]
"""Operation `security` (None when it declares none) -> the template slugs that satisfy it."""


@dataclass
class Operation:
    """One operation found in the document, before it becomes a tool."""

    method: str
    path: str
    op: dict[str, Any]
    shared: list[Any]
    """Path-level parameters (unresolved)."""
    servers: list[Server]
    key: OperationKey
    security: Any
    """The operation's own `security`, else the document's (None: nothing declared)."""


def _media(content: Any) -> tuple[str | None, Any, list[str]]:
    """(chosen media type, its schema, every media type): JSON preferred."""
    if not isinstance(content, dict) or not content:
        return None, None, []
    types = [str(t) for t in content]
    chosen = next((t for t in types if "json" in t), types[0])
    media = content.get(chosen)
    return chosen, media.get("schema") if isinstance(media, dict) else None, types


def collect(
    document: dict[str, Any], resolver: Resolver, *, spec_url: str | None, field: str
) -> tuple[list[Operation], list[str]]:
    """Every operation, paths in code-point order and methods in the reference's order."""
    warnings: list[str] = []
    paths = document.get("paths")
    if paths is None:
        return [], ["the document declares no paths"]
    if not isinstance(paths, dict):
        raise SpecParseError("`paths` must be an object", field=f"{field}.paths")
    top_servers = parse_servers(document.get("servers"), spec_url)
    top_security = document.get("security")
    operations: list[Operation] = []
    for path in sorted(paths):
        item = resolver.resolve(paths[path], field=f"{field}.paths[{path}]")
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters")
        shared = shared if isinstance(shared, list) else []
        item_servers = parse_servers(item["servers"], spec_url) if "servers" in item else []
        servers = item_servers or top_servers
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            op_id = op.get("operationId")
            operation_id = (
                op_id if isinstance(op_id, str) and op_id else fallback_operation_id(method, path)
            )
            tags = op.get("tags")
            override = op.get("x-switchboard-toolPath") or op.get("x-executor-toolPath")
            key = OperationKey(
                method=method,
                path=path,
                operation_id=operation_id,
                tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
                tool_path=override if isinstance(override, str) and override else None,
            )
            own = parse_servers(op["servers"], spec_url) if "servers" in op else []
            security = op.get("security", top_security)
            operations.append(Operation(method, path, op, shared, own or servers, key, security))
    if not operations:
        warnings.append("the document declares no operations")
    return operations, warnings


class _Builder:
    """Per-document caches: a `$ref`'d parameter or a server list is prepared once."""

    def __init__(self, resolver: Resolver, field: str) -> None:
        self.resolver = resolver
        self.field = field
        self._params: dict[int, tuple[str, str, Any, bool, dict[str, Any]] | None] = {}
        self._server_inputs: dict[int, dict[str, Any] | None] = {}

    def parameter(self, raw: Any, where: str) -> tuple[str, str, Any, bool, dict[str, Any]] | None:
        cached = self._params.get(id(raw), False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        param = self.resolver.resolve(raw, field=where)
        prepared = None
        if isinstance(param, dict) and isinstance(param.get("name"), str):
            name, location = param["name"], str(param.get("in", "query"))
            schema = param.get("schema")
            if schema is None:
                schema = _media(param.get("content"))[1]
            if not isinstance(schema, dict):
                schema = STRING
            description = param.get("description")
            if description and "description" not in schema:
                schema = {**schema, "description": description}
            binding = {"name": name, "in": location}
            for extra in ("style", "explode", "allowReserved"):
                if extra in param:
                    binding[extra] = param[extra]
            required = location == "path" or param.get("required") is True
            prepared = (name, location, schema, required, binding)
        self._params[id(raw)] = prepared
        return prepared

    def server_input(self, servers: list[Server]) -> dict[str, Any] | None:
        if id(servers) not in self._server_inputs:
            self._server_inputs[id(servers)] = server_input(servers)
        return self._server_inputs[id(servers)]

    def tool(self, name: str, operation: Operation, accepts: Accepts) -> ToolDefinition:
        method, path, op = operation.method, operation.path, operation.op
        where = f"{self.field}.paths[{path}].{method}"
        properties: dict[str, Any] = {}
        required: list[str] = []
        bindings: list[dict[str, Any]] = []
        own = op.get("parameters")
        own = own if isinstance(own, list) else None
        raws = [*operation.shared, *own] if own and operation.shared else own or operation.shared
        seen: dict[tuple[str, str], int] = {}
        for raw in raws:
            prepared = self.parameter(raw, where)
            if prepared is None:
                continue
            pname, location, schema, is_required, binding = prepared
            index = seen.get((pname, location))
            if index is not None:  # an operation parameter overrides the path-level one
                bindings[index] = binding
            else:
                seen[(pname, location)] = len(bindings)
                bindings.append(binding)
            properties[pname] = schema
            if is_required and pname not in required:
                required.append(pname)
        content_types: list[str] = []
        body = op.get("requestBody")
        if body is not None:
            resolved = self.resolver.resolve(body, field=f"{where}.requestBody")
            if isinstance(resolved, dict):
                chosen, schema, content_types = _media(resolved.get("content"))
                if chosen is not None and chosen.startswith(BINARY_MEDIA):
                    body_name = "bodyBase64"
                    schema = {"type": "string", "contentEncoding": "base64"}
                else:
                    body_name = "body"
                properties[body_name] = schema if isinstance(schema, dict) else {"type": "object"}
                if resolved.get("required") is True:
                    required.append(body_name)
                if len(content_types) > 1:
                    properties["contentType"] = {"type": "string", "enum": content_types}
        server = self.server_input(operation.servers)
        if server is not None:
            properties["server"] = server
        input_schema: dict[str, Any] | None = None
        if properties:
            input_schema = {
                "type": "object",
                "properties": properties,
                "additionalProperties": False,
            }
            if required:
                input_schema["required"] = required
        upper = method.upper()
        description = op.get("description") or op.get("summary") or f"{upper} {path}"
        template_path = op.get("x-switchboard-pathTemplate") or op.get("x-executor-pathTemplate")
        return ToolDefinition.model_construct(
            name=name,
            description=str(description),
            input_schema=input_schema,
            output_schema=self.output(op.get("responses"), where),
            annotations=(
                {"requiresApproval": True, "approvalDescription": f"{upper} {path}"}
                if method in MUTATING
                else {}
            ),
            binding={
                "method": upper,
                "path": template_path if isinstance(template_path, str) else path,
                "operationId": operation.key.operation_id,
                "servers": operation.servers,
                "parameters": bindings,
                "contentTypes": content_types,
                "templates": accepts(operation.security),
            },
        )

    def output(self, responses: Any, where: str) -> dict[str, Any] | None:
        if not isinstance(responses, dict) or not responses:
            return None
        codes = sorted(str(code) for code in responses)
        chosen = next((c for c in codes if c.startswith("2")), None)
        if chosen is None:
            chosen = "default" if "default" in codes else None
        if chosen is None:
            return None
        raw = responses.get(chosen)
        if raw is None and chosen.isdigit():  # YAML integer keys
            raw = responses.get(int(chosen))
        response = self.resolver.resolve(raw, field=f"{where}.responses.{chosen}")
        if not isinstance(response, dict):
            return None
        media, schema, _ = _media(response.get("content"))
        if media is not None and media.startswith(BINARY_MEDIA):
            return {"type": "string", "contentEncoding": "base64", "contentMediaType": media}
        return schema if isinstance(schema, dict) else None


def build_tools(
    operations: list[Operation], resolver: Resolver, accepts: Accepts, *, field: str
) -> list[ToolDefinition]:
    """One tool per operation, named per the reference's rules, sorted by name."""
    names = name_tools([operation.key for operation in operations])
    builder = _Builder(resolver, field)
    tools = [
        builder.tool(name, operation, accepts)
        for name, operation in zip(names, operations, strict=True)
    ]
    tools.sort(key=lambda tool: tool.name)
    return tools


def definitions(document: dict[str, Any]) -> dict[str, Any]:
    """The integration's `$defs`: `components.schemas`, shared, refs already rewritten."""
    components = document.get("components")
    schemas = components.get("schemas") if isinstance(components, dict) else None
    return schemas if isinstance(schemas, dict) else {}
