"""Rendering the CRDs from the pydantic models: structural schema, status subresource, printer
columns, CEL validations. No defaults are emitted (they would make Argo CD report OutOfSync)."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from switchboard.models.connection import ConnectionSpec, ConnectionStatus
from switchboard.models.integration import (
    API_GROUP,
    SLUG_PATTERN,
    IntegrationSpec,
    IntegrationStatus,
)

VERSION = "v1alpha1"
_DROP = {"title", "default", "discriminator"}


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """Resolve `$defs` refs and reduce pydantic's JSON Schema to the structural subset."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = defs[node["$ref"].split("/")[-1]]
            merged = {**copy.deepcopy(target), **{k: v for k, v in node.items() if k != "$ref"}}
            return walk(merged)
        out: dict[str, Any] = {}
        options = node.get("anyOf")
        if options is not None:
            non_null = [o for o in options if o.get("type") != "null"]
            if len(non_null) == 1:
                rest = {k: v for k, v in node.items() if k != "anyOf"}
                return walk({**non_null[0], **rest})
        one_of = node.get("oneOf")
        if one_of is not None:
            # A discriminated union of objects: one object with every member's properties,
            # `kind` restricted to the members' values (structural schemas have no oneOf).
            members = [walk(o) for o in one_of]
            props: dict[str, Any] = {}
            kinds: list[str] = []
            for member in members:
                for key, value in member.get("properties", {}).items():
                    if key == "kind":
                        kinds.extend(value.get("enum", []))
                    else:
                        props.setdefault(key, value)
            props["kind"] = {"type": "string", "enum": kinds}
            return {"type": "object", "properties": props, "required": ["kind"]}
        for key, value in node.items():
            if key in _DROP or key == "$defs":
                continue
            if key == "const":
                out["enum"] = [value]
                continue
            if key == "properties":
                out[key] = {k: walk(v) for k, v in value.items()}
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                out[key] = walk(value)
            else:
                out[key] = value
        if (
            out.get("type") == "object"
            and "properties" not in out
            and "additionalProperties" not in out
        ):
            out["x-kubernetes-preserve-unknown-fields"] = True
        if out.get("additionalProperties") is True or out.get("additionalProperties") == {}:
            out.pop("additionalProperties")
            out["x-kubernetes-preserve-unknown-fields"] = True
        if out.get("additionalProperties") is False:
            out.pop("additionalProperties")
        return out

    result: dict[str, Any] = walk({k: v for k, v in schema.items() if k != "$defs"})
    return result


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return _inline(model.model_json_schema(by_alias=True, mode="validation"))


def _source_rule() -> dict[str, str]:
    return {
        "rule": "[has(self.file), has(self.url), has(self.inline), has(self.configMapRef)]"
        ".filter(x, x).size() == 1",
        "message": "exactly one of file, url, inline, configMapRef must be set",
    }


def integration_schema() -> dict[str, Any]:
    spec = _schema(IntegrationSpec)
    spec["properties"]["slug"]["x-kubernetes-validations"] = [
        {
            "rule": "self != 'switchboard'",
            "message": "'switchboard' is reserved for the built-in integration",
        },
    ]
    spec["properties"]["slug"]["pattern"] = SLUG_PATTERN
    spec["properties"]["openapi"]["properties"]["source"]["x-kubernetes-validations"] = [
        _source_rule()
    ]
    spec["properties"]["graphql"]["properties"]["introspection"]["x-kubernetes-validations"] = [
        _source_rule()
    ]
    spec["x-kubernetes-validations"] = [
        {
            "rule": "self.kind != 'openapi' || has(self.openapi)",
            "message": "spec.openapi is required when kind is openapi",
        },
        {
            "rule": "self.kind != 'graphql' || has(self.graphql)",
            "message": "spec.graphql is required when kind is graphql",
        },
        {
            "rule": "self.kind != 'mcp' || has(self.mcp)",
            "message": "spec.mcp is required when kind is mcp",
        },
        {
            "rule": "self.kind != 'auto' || has(self.auto)",
            "message": "spec.auto is required when kind is auto",
        },
    ]
    status = _schema(IntegrationStatus)
    return {"type": "object", "properties": {"spec": spec, "status": status}, "required": ["spec"]}


def connection_schema() -> dict[str, Any]:
    spec = _schema(ConnectionSpec)
    spec["properties"]["owner"]["x-kubernetes-validations"] = [
        {
            "rule": "self.kind != 'user' || (has(self.subject) && self.subject != '')",
            "message": "owner.subject is required when owner.kind is user",
        },
        {
            "rule": "self.kind != 'org' || !has(self.subject) || self.subject == ''",
            "message": "owner.subject must be empty when owner.kind is org",
        },
    ]
    spec["properties"]["credentials"]["x-kubernetes-validations"] = [
        {
            "rule": "[has(self.secretRef), has(self.env), has(self.files)]"
            ".filter(x, x).size() <= 1",
            "message": "at most one of secretRef, env, files may be set",
        },
    ]
    status = _schema(ConnectionStatus)
    return {"type": "object", "properties": {"spec": spec, "status": status}, "required": ["spec"]}


def _crd(
    kind: str, plural: str, schema: dict[str, Any], columns: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{API_GROUP}"},
        "spec": {
            "group": API_GROUP,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "categories": ["switchboard"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def render_crds() -> dict[str, dict[str, Any]]:
    """File name → CRD document."""
    ready = {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
    }
    age = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
    return {
        "integrations.yaml": _crd(
            "Integration",
            "integrations",
            integration_schema(),
            [
                {"name": "Slug", "type": "string", "jsonPath": ".status.slug"},
                {"name": "Kind", "type": "string", "jsonPath": ".spec.kind"},
                ready,
                {"name": "Auth", "type": "string", "jsonPath": ".status.authMethods[*].kind"},
                {"name": "Tools", "type": "integer", "jsonPath": ".status.tools.count"},
                age,
            ],
        ),
        "connections.yaml": _crd(
            "Connection",
            "connections",
            connection_schema(),
            [
                {"name": "Integration", "type": "string", "jsonPath": ".spec.integration"},
                {"name": "Address", "type": "string", "jsonPath": ".status.address"},
                ready,
                {"name": "Tools", "type": "integer", "jsonPath": ".status.tools.count"},
                age,
            ],
        ),
    }
