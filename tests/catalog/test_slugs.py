"""Slug rules and connection identifiers (reference §5, cases 1-8), table-driven."""

from __future__ import annotations

import pytest

from switchboard.catalog.slugs import (
    connection_address,
    connection_identifier,
    slugify,
    unique_slug,
    validate_slug,
)
from switchboard.errors import InvalidSlugError


@pytest.mark.parametrize(
    ("slug", "why"),
    [
        ("petstore", "lowercase letters"),
        ("acme_billing_2", "underscores and digits after the first letter"),
        ("a" * 63, "63 characters is the cap"),
    ],
)
def test_valid_slugs_pass(slug: str, why: str) -> None:
    assert validate_slug(slug) == slug, why


@pytest.mark.parametrize(
    ("slug", "why"),
    [
        ("Petstore", "uppercase"),
        ("pet-store", "hyphens break tool addresses"),
        ("pet.store", "dots break tool addresses"),
        ("1pets", "must start with a letter"),
        ("", "empty"),
        ("a" * 64, "over 63 characters"),
        ("switchboard", "reserved for the built-in integration"),
    ],
)
def test_invalid_slugs_name_the_field(slug: str, why: str) -> None:
    with pytest.raises(InvalidSlugError) as caught:
        validate_slug(slug, field="spec.slug")
    assert str(caught.value).startswith("spec.slug: "), why


@pytest.mark.parametrize(
    ("text", "expected", "why"),
    [
        ("Swagger Petstore - OpenAPI 3.0", "swagger_petstore_openapi_3_0", "reference case 6"),
        ("Petstore API!", "petstore_api", "trailing _ trimmed (reference gap 2)"),
        ("  My API", "my_api", "leading _ trimmed"),
        ("  My--Api  ", "my_api", "reference case 7"),
        ("Ünïcode API", "unicode_api", "non-ASCII transliterated, not dropped"),
        ("!!!", "api", "nothing left: the fallback"),
        ("3scale", "api_3scale", "must start with a letter"),
        ("switchboard", "switchboard_api", "never the reserved slug"),
    ],
)
def test_slugify(text: str, expected: str, why: str) -> None:
    assert slugify(text) == expected, why
    validate_slug(slugify(text))


def test_unique_slug_suffixes_in_order() -> None:
    assert unique_slug("api", set()) == "api"
    assert unique_slug("api", {"api"}) == "api_2"
    assert unique_slug("api", {"api", "api_2"}) == "api_3"
    long = "a" * 63
    assert unique_slug(long, {long}) == "a" * 61 + "_2"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("my-api-key", "myApiKey"),
        ("123abc", "connection123abc"),
        ("", "connection"),
        ("Prod (EU)", "prodEu"),
        ("main", "main"),
    ],
)
def test_connection_identifier(name: str, expected: str) -> None:
    assert connection_identifier(name) == expected


def test_connection_address() -> None:
    assert connection_address("vercel", "org", "myApiKey") == "tools.vercel.org.myApiKey"
