"""Connection identity, names, addresses and template checks: pure functions, one reason per case."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from switchboard.catalog.addressing import ToolAddress, format_tool_address, parse_tool_address
from switchboard.catalog.connections import (
    connection_key,
    credential_reference,
    credentials_from_reference,
    redact,
    redact_error,
    secret_of,
    select_method,
    using_secret,
    valid_templates,
    variables_for,
)
from switchboard.errors import CredentialsRejectedError, FetchError, UnknownTemplateError
from switchboard.models.connection import (
    Connection,
    ConnectionKey,
    ConnectionRecord,
    Credentials,
)
from switchboard.plugins.templates import describe_all


def resource(meta_name: str = "petstore-prod", /, **spec: Any) -> Connection:
    body = {"integration": "petstore", "owner": {"kind": "org"}, "template": "apikey-0", **spec}
    return Connection.model_validate(
        {"metadata": {"name": meta_name, "namespace": "acme"}, "spec": body}
    )


@pytest.mark.parametrize(
    ("spec_name", "expected", "why"),
    [
        ("my-api-key", "myApiKey", "reference case 8: words joined in camelCase"),
        ("123abc", "connection123abc", "an identifier cannot start with a digit"),
        ("", "connection", "nothing usable left"),
        ("Prod (EU)", "prodEu", "punctuation splits words, case is folded"),
        ("already_ok", "alreadyOk", "underscores split words too"),
        (None, "petstoreProd", "defaults to metadata.name"),
    ],
)
def test_connection_names_are_identifiers(spec_name: str | None, expected: str, why: str) -> None:
    key = connection_key(resource(name=spec_name))
    assert key.name == expected, why


def test_identity_and_address_for_org_and_user() -> None:
    org = connection_key(resource(name="my-api-key"))
    assert org == ConnectionKey("acme", "org", "", "petstore", "myApiKey")
    assert org.address == "tools.petstore.org.myApiKey"
    user = connection_key(resource(owner={"kind": "user", "subject": "alice@acme"}, name="main"))
    assert user == ConnectionKey("acme", "user", "alice@acme", "petstore", "main")
    assert user.address == "tools.petstore.user.main"  # the subject is not part of the address


@pytest.mark.parametrize(
    ("owner", "why"),
    [
        ({"kind": "user"}, "a user connection needs a subject"),
        ({"kind": "org", "subject": "alice"}, "an org connection has no subject"),
        ({"kind": "team"}, "owners are org or user"),
    ],
)
def test_bad_owners_are_refused(owner: dict[str, str], why: str) -> None:
    with pytest.raises(ValidationError):
        resource(owner=owner)
    assert why


def test_one_credentials_provider_per_connection() -> None:
    with pytest.raises(ValidationError, match="at most one of secretRef, env, files"):
        Credentials.model_validate({"env": {"token": "A"}, "files": {"token": "b"}})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "tools.cfg.org.main.items.echoHeaders",
            ToolAddress("cfg", "org", "main", "items.echoHeaders"),
        ),
        ("tools.vercel.org.myApiKey.deploy", ToolAddress("vercel", "org", "myApiKey", "deploy")),
        ("tools.crm.user.main.notes.read", ToolAddress("crm", "user", "main", "notes.read")),
        ("tools.vercel.team.main.deploy", None),  # owner must be org or user
        ("tool.vercel.org.main.deploy", None),  # the root is `tools`
        ("tools.vercel.org.main", None),  # a connection address, no tool
        ("tools..org.main.deploy", None),  # empty integration
        ("tools.vercel.org..deploy", None),  # empty connection
        ("tools.vercel.org.main.", None),  # empty tool
        ("", None),
    ],
)
def test_parse_tool_address(text: str, expected: ToolAddress | None) -> None:
    assert parse_tool_address(text) == expected
    if expected is not None:
        assert str(expected) == text == format_tool_address(*vars(expected).values())


METHODS = describe_all(
    [
        {
            "slug": "apikey-0",
            "kind": "apikey",
            "placements": [{"carrier": "header", "name": "Authorization", "prefix": "Bearer "}],
        },
        {
            "slug": "dd",
            "kind": "apikey",
            "placements": [
                {"carrier": "header", "name": "DD-API-KEY", "variable": "dd_api_key"},
                {"carrier": "header", "name": "DD-APPLICATION-KEY", "variable": "dd_app_key"},
                {"carrier": "header", "name": "X-Client", "literal": "switchboard"},
            ],
        },
        {"slug": "oauth-app", "kind": "oauth2", "tokenUrl": "https://x.example/token"},
        {"slug": "public", "kind": "none"},
    ]
)


@pytest.mark.parametrize(
    ("template", "variables", "why"),
    [
        ("apikey-0", ["token"], "a placement without a variable renders `token`"),
        ("dd", ["dd_api_key", "dd_app_key"], "one per variable; literals need none (case 22)"),
        ("oauth-app", ["token"], "an OAuth template carries an access token"),
        ("public", [], "a declared none template"),
        ("none", [], "`none` is always accepted and needs nothing"),
    ],
)
def test_template_selection_and_required_variables(
    template: str, variables: list[str], why: str
) -> None:
    method = select_method(METHODS, template, integration="petstore")
    assert variables_for(method) == variables, why


def test_unknown_template_lists_the_valid_slugs() -> None:
    with pytest.raises(UnknownTemplateError) as caught:
        select_method(METHODS, "apikey-1", integration="petstore")
    message = str(caught.value)
    assert message.startswith("spec.template: ")
    assert "valid: apikey-0, dd, oauth-app, public, none" in message
    assert caught.value.reason == "UnknownTemplate"
    assert valid_templates([]) == ["none"]


@pytest.mark.parametrize(
    ("credentials", "provider", "items"),
    [
        (None, "none", {}),
        ({"env": {"token": "PET_TOKEN"}}, "env", {"token": "PET_TOKEN"}),
        ({"files": {"token": "secrets/pet"}}, "files", {"token": "secrets/pet"}),
        (
            {"secretRef": {"name": "pet", "keys": {"token": "api-key"}}},
            "secret:pet",
            {"token": "api-key"},
        ),
        ({"secretRef": {"name": "pet"}}, "secret:pet", {}),
    ],
)
def test_credential_reference_round_trips(
    credentials: dict[str, Any] | None, provider: str, items: dict[str, str]
) -> None:
    parsed = Credentials.model_validate(credentials) if credentials is not None else None
    assert credential_reference(parsed) == (provider, items)
    assert credentials_from_reference(provider, items) == parsed


def test_redaction_removes_values_longest_first() -> None:
    assert redact("sent abc and abcdef", ["abc", "abcdef"]) == "sent *** and ***"
    assert redact("nothing here", ["", "zzz"]) == "nothing here"
    clean = CredentialsRejectedError("upstream said: bad token s3cr3t", field="spec.credentials")
    out = redact_error(clean, ["s3cr3t"])
    assert str(out) == "spec.credentials: upstream said: bad token ***"
    assert out.reason == "CredentialsRejected" and out.__cause__ is None
    untouched = FetchError("timed out")
    assert redact_error(untouched, ["s3cr3t"]) is untouched


def test_a_secret_change_finds_the_connections_that_read_it() -> None:
    def row(name: str, provider: str, tenant: str = "acme") -> ConnectionRecord:
        return ConnectionRecord(
            tenant=tenant, owner="org", integration="crm", name=name, template="apikey-0",
            provider=provider, resource=f"{name}-object",
        )  # fmt: skip

    rows = [
        row("a", "secret:crm-token"),
        row("b", "secret:crm-token"),
        row("c", "secret:other"),
        row("d", "env"),
        row("e", "secret:crm-token", tenant="beta"),
    ]
    assert using_secret(rows, "acme", "crm-token") == ["a-object", "b-object"]
    assert secret_of(rows[3]) is None
