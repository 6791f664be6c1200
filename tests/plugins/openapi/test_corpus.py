"""The robustness corpus (tests/corpus/openapi/) plus generated monsters: every document
registers, or fails with a SpecParseError-like condition naming the field; none takes the
process down (no RecursionError), and each stays within the size cap and a time budget."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from plugins.openapi.helpers import make_ctx, openapi, register
from switchboard.errors import PathEscapeError, PermanentError, SpecParseError, SpecTooLargeError
from switchboard.models.records import Registration
from switchboard.plugins.contract import RegistrationRequest
from switchboard.plugins.openapi import plugin

CORPUS = Path(__file__).parents[2] / "corpus" / "openapi"
BUDGET = 10.0
"""Seconds any one corpus document may take: generous for CI, far below a hang."""


async def register_file(root: Path, name: str, *, limit: int | None = None) -> Registration:
    shutil.copytree(CORPUS, root, dirs_exist_ok=True)
    ctx = make_ctx(root, limit=limit) if limit else make_ctx(root)
    request = RegistrationRequest(tenant="t", slug="api", config={"source": {"file": name}})
    started = time.perf_counter()
    try:
        return await plugin.register(request, ctx)
    finally:
        assert time.perf_counter() - started < BUDGET


async def test_self_referencing_schemas_register(tmp_path: Path) -> None:
    registration = await register_file(tmp_path, "self_referencing.json")
    assert [t.name for t in registration.toolset.tools] == ["nodes.getNode"]
    assert registration.toolset.definitions["Peer"] == {"allOf": [{"$ref": "#/$defs/Node"}]}


async def test_parameter_cycle_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpecParseError, match="reference cycle") as caught:
        await register_file(tmp_path, "parameter_cycle.json")
    assert caught.value.field is not None and caught.value.field.startswith("spec.openapi.source")


async def test_duplicate_operation_ids_get_distinct_deterministic_names(tmp_path: Path) -> None:
    first = await register_file(tmp_path, "duplicate_operation_ids.yaml")
    names = [t.name for t in first.toolset.tools]
    assert len(names) == len(set(names)) == 4
    again = await register_file(tmp_path, "duplicate_operation_ids.yaml")
    assert [t.name for t in again.toolset.tools] == names


async def test_non_ascii(tmp_path: Path) -> None:
    registration = await register_file(tmp_path, "non_ascii.yaml")
    assert registration.record.name == "Ünïcødé API — 日本語"
    assert registration.record.description == "Ça marche ✓"
    [only] = registration.toolset.tools
    assert only.binding["path"] == "/café/{número}"
    assert only.input_schema is not None and "número" in only.input_schema["properties"]


async def test_missing_info_registers_with_a_warning(tmp_path: Path) -> None:
    registration = await register_file(tmp_path, "missing_info.json")
    assert registration.record.name == "api"  # the slug stands in for the missing title
    assert any("info" in w for w in registration.warnings)
    assert len(registration.toolset.tools) == 1


async def test_paths_without_operations(tmp_path: Path) -> None:
    registration = await register_file(tmp_path, "no_operations.json")
    assert registration.toolset.tools == []
    assert registration.details["operationCount"] == 0
    assert any("no operations" in w for w in registration.warnings)


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        pytest.param(
            "not_openapi.json", SpecParseError, "not an OpenAPI document", id="not OpenAPI"
        ),
        pytest.param("not_json_yaml.html", SpecParseError, "not an OpenAPI document", id="HTML"),
        pytest.param("binary.png", SpecParseError, "not JSON or YAML", id="binary"),
        pytest.param(
            "unsupported_version.json", SpecParseError, "unsupported version", id="Swagger 1.2"
        ),
        pytest.param("alias_bomb.yaml", SpecParseError, "alias bomb", id="YAML alias bomb"),
        pytest.param(
            "external/escape.yaml", PathEscapeError, "leaves the repository", id="ref escape"
        ),
    ],
)
async def test_refused_with_a_clear_error(
    tmp_path: Path, name: str, error: type[PermanentError], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        await register_file(tmp_path, name)
    assert caught.value.field is not None and caught.value.field.startswith("spec.openapi.source")


async def test_external_references_are_bundled(tmp_path: Path) -> None:
    registration = await register_file(tmp_path, "external/main.yaml")
    tools = {t.name: t for t in registration.toolset.tools}
    assert sorted(tools) == ["owners.listOwners", "pets.listPets"]
    pets = tools["pets.listPets"]
    assert pets.input_schema is not None
    assert pets.input_schema["properties"]["limit"] == {"type": "integer", "maximum": 100}
    assert pets.output_schema == {"type": "array", "items": {"$ref": "#/$defs/schemas_Pet"}}
    assert tools["owners.listOwners"].output_schema == {"$ref": "#/$defs/schemas_Owner"}
    definitions = registration.toolset.definitions
    assert definitions["Local"]["properties"]["pet"] == {"$ref": "#/$defs/schemas_Pet"}
    assert definitions["schemas_Pet"]["properties"] == {
        "owner": {"$ref": "#/$defs/schemas_Owner"},
        "sibling": {"$ref": "#/$defs/schemas_Pet"},
    }
    # The spec hash covers the external files: editing one changes it.
    config: dict[str, Any] = registration.record.config
    assert set(config["externalDocuments"]) == {
        "external/common/parameters.yaml",
        "external/common/responses.json",
        "external/common/schemas.yaml",
        "external/common/paths.yaml",
    }
    (tmp_path / "external/common/schemas.yaml").write_text(
        (tmp_path / "external/common/schemas.yaml").read_text().replace("string", "integer")
    )
    request = RegistrationRequest(
        tenant="t",
        slug="api",
        config={"source": {"file": "external/main.yaml"}},
        previous=registration.record,
    )
    changed = await plugin.register(request, make_ctx(tmp_path))
    assert changed.record.spec_hash != registration.record.spec_hash
    assert changed.toolset.unchanged is False


def _nested(depth: int) -> bytes:
    return b'{"openapi": "3.0.3", "paths": {}, "x": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(_nested(5_000), "1,024 levels", id="JSON 5,000 levels deep"),
        pytest.param(
            b"openapi: 3.0.3\npaths: {}\nx: " + b"[" * 5_000 + b"]" * 5_000 + b"\n",
            "nesting depth",
            id="YAML 5,000 levels deep",
        ),
    ],
)
async def test_deep_nesting_is_refused_without_recursion_error(
    tmp_path: Path, body: bytes, message: str
) -> None:
    with pytest.raises(SpecParseError, match=message):
        await register(tmp_path, body, name="deep.yaml")


async def test_schema_too_deep_for_json_tooling_names_the_schema(tmp_path: Path) -> None:
    # 400 levels: orjson reads up to 1,024 but writes only 254, so the plugin must catch it.
    schema = b'{"type": "array", "items": ' * 400 + b'{"type": "string"}' + b"}" * 400
    body = (
        b'{"openapi": "3.0.3", "paths": {}, "components": {"schemas": {"Deep": ' + schema + b"}}}"
    )
    with pytest.raises(SpecParseError, match="250 levels") as caught:
        await register(tmp_path, body)
    assert caught.value.field == "spec.openapi.source (components.schemas.Deep)"


async def test_ten_thousand_ref_hops(tmp_path: Path) -> None:
    hops = 10_000
    parameters = {f"p{i}": {"$ref": f"#/components/parameters/p{i + 1}"} for i in range(hops)}
    parameters[f"p{hops}"] = {"name": "q", "in": "query", "schema": {"type": "string"}}
    schemas = {f"S{i}": {"$ref": f"#/components/schemas/S{i + 1}"} for i in range(hops)}
    schemas[f"S{hops}"] = {"type": "object"}
    paths = {
        f"/r{i}": {
            "get": {
                "operationId": f"read{i}",
                "parameters": [{"$ref": "#/components/parameters/p0"}],
                "responses": {
                    "200": {
                        "description": "",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/S0"}}
                        },
                    }
                },
            }
        }
        for i in range(200)
    }
    document = openapi(paths, components={"parameters": parameters, "schemas": schemas})
    started = time.perf_counter()
    registration = await register(tmp_path, document)
    assert time.perf_counter() - started < BUDGET
    assert len(registration.toolset.tools) == 200
    first = registration.toolset.tools[0]
    assert first.input_schema is not None
    assert first.input_schema["properties"] == {"q": {"type": "string"}}
    assert first.output_schema == {"$ref": "#/$defs/S0"}
    assert len(registration.toolset.definitions) == hops + 1


async def test_over_the_size_cap(tmp_path: Path) -> None:
    paths = {f"/p{i}": {"get": {"description": "x" * 200, "responses": {}}} for i in range(10_000)}
    body = orjson.dumps(openapi(paths))
    assert len(body) > 2_000_000
    with pytest.raises(SpecTooLargeError, match="over the") as caught:
        await register(tmp_path, body, ctx=make_ctx(tmp_path, limit=1_000_000))
    assert caught.value.field == "spec.openapi.source.file"


async def test_huge_document_within_the_cap(tmp_path: Path) -> None:
    paths = {
        f"/things{i}/{{id}}": {
            "get": {"operationId": f"getThing{i}", "tags": [f"t{i % 50}"], "responses": {}},
            "delete": {"operationId": f"deleteThing{i}", "tags": [f"t{i % 50}"], "responses": {}},
        }
        for i in range(10_000)
    }
    started = time.perf_counter()
    registration = await register(tmp_path, openapi(paths))
    assert time.perf_counter() - started < BUDGET
    assert registration.details["operationCount"] == 20_000
    assert len({t.name for t in registration.toolset.tools}) == 20_000


async def test_wrong_types_everywhere_are_ignored_not_fatal(tmp_path: Path) -> None:
    registration = await register_file(tmp_path, "wrong_types.json")
    assert sorted(t.name for t in registration.toolset.tools) == ["a.getA", "b.postB"]
    assert registration.toolset.definitions == {}
