"""Tool names from operations: reference cases 48-53 as a table, plus collision determinism."""

from __future__ import annotations

import pytest

from switchboard.plugins.openapi.naming import OperationKey, fallback_operation_id, name_tools


def key(method: str, path: str, op_id: str | None = None, *tags: str, **kw: str) -> OperationKey:
    return OperationKey(
        method=method,
        path=path,
        operation_id=op_id or fallback_operation_id(method, path),
        tags=tags,
        tool_path=kw.get("tool_path"),
    )


CASES = [
    pytest.param(
        [
            key("get", "/pets", "pets.listPets", "pets"),
            key("post", "/pets", "pets.createPet", "pets"),
            key("get", "/pets/{id}", "pets.getPet", "pets"),
        ],
        ["pets.listPets", "pets.createPet", "pets.getPet"],
        id="48: dotted operationIds under their tag keep the leaf",
    ),
    pytest.param(
        [key("get", "/widgets", "widgets/list")],
        ["widgets.list"],
        id="49: slash-separated operationId without a tag groups by the first path segment",
    ),
    pytest.param(
        [key("get", "/x", "gmail.usersMessagesList", "gmail", tool_path="users.messages.list")],
        ["users.messages.list"],
        id="50: x-executor-toolPath wins verbatim",
    ),
    pytest.param(
        [key("get", "/pets/{petId}")],
        ["pets.getPetsPetId"],
        id="51: no operationId falls back to get__pets_petId",
    ),
    pytest.param(
        [
            key("get", "/v1/users", "listUsers", "users"),
            key("get", "/v2/users", "listUsers", "users"),
        ],
        ["users.v1.listUsers", "users.v2.listUsers"],
        id="52a: same name in two API versions gets the version segment",
    ),
    pytest.param(
        [key("get", "/items", "list"), key("post", "/items", "list")],
        ["items.listGet", "items.listPost"],
        id="52b: same name on two methods gets the method",
    ),
    pytest.param(
        [key("get", "/zones", "zones_listZones", "zones")],
        ["zones.zonesListZones"],
        id="53: underscores are not separators",
    ),
    pytest.param(
        [key("get", "/v1.2/things", "a")],
        ["things.a"],
        id="gap 17: a dotted version segment never adds a dot",
    ),
    pytest.param(
        [key("get", "/", None)],
        ["root.get"],
        id="the root path groups under root",
    ),
]


@pytest.mark.parametrize(("operations", "expected"), CASES)
def test_tool_names(operations: list[OperationKey], expected: list[str]) -> None:
    assert name_tools(operations) == expected


def test_fallback_operation_id_matches_the_reference() -> None:
    assert fallback_operation_id("get", "/pets/{petId}") == "get__pets_petId"
    assert fallback_operation_id("get", "/") == "get"


def test_hash_round_is_deterministic_and_distinct() -> None:
    """52c: `list` GET on /items and /items/{id} collide through every round but the hash one."""
    operations = [key("get", "/items", "list"), key("get", "/items/{id}", "list")]
    first = name_tools(operations)
    assert first == name_tools(list(operations))
    assert len(set(first)) == 2
    for name in first:
        assert name.startswith("items.listGet")
        assert len(name) == len("items.listGet") + 8


def test_identical_operations_still_get_unique_names() -> None:
    operations = [key("get", "/a", "same"), key("get", "/a", "same")]
    names = name_tools(operations)
    assert len(set(names)) == 2
