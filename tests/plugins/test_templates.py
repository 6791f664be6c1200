"""Auth templates: merge/replace (reference §5.4, cases 11-18), descriptors (§6), rendering."""

from __future__ import annotations

import re

import pytest

from switchboard.models.auth import ApiKeyTemplate, AuthPlacement, NoneTemplate, OAuth2Template
from switchboard.plugins.templates import (
    combine,
    custom_slug,
    describe,
    describe_all,
    merge_templates,
    normalize_slugs,
    parse_templates,
    render,
    required_variables,
)


def header(name: str, slug: str | None = None, **extra: str) -> ApiKeyTemplate:
    return ApiKeyTemplate(
        slug=slug, placements=[AuthPlacement(carrier="header", name=name, **extra)]
    )


def test_merge_appends_a_new_slug_and_keeps_order() -> None:
    merged = merge_templates([header("X-Seed", "seed")], [header("x-api-key", "my_custom")])
    assert [t.slug for t in merged] == ["seed", "my_custom"]  # case 11


def test_slugless_entries_get_a_deterministic_custom_slug() -> None:
    first = merge_templates([], [header("X-Key")])
    second = merge_templates([], [header("X-Key")])
    assert re.fullmatch(r"custom_[a-z0-9]{6}", first[0].slug or "")  # case 12
    # Unlike the reference (random), applying the same manifest twice gives the same slug.
    assert first[0].slug == second[0].slug


def test_merge_replaces_in_place_and_slugless_entries_get_distinct_slugs() -> None:
    existing = [header("x-api-key", "my_custom")]
    incoming = [
        header("x-other", "my_custom"),
        ApiKeyTemplate(placements=[AuthPlacement(carrier="query", name="api_key")]),
        ApiKeyTemplate(placements=[AuthPlacement(carrier="query", name="token")]),
    ]
    merged = merge_templates(existing, incoming)  # case 13
    assert len(merged) == 3
    assert merged[0].slug == "my_custom"
    assert isinstance(merged[0], ApiKeyTemplate) and merged[0].placements[0].name == "x-other"
    assert merged[1].slug != merged[2].slug
    assert all((t.slug or "").startswith("custom_") for t in merged[1:])


def test_merge_trims_the_callers_slug() -> None:
    merged = merge_templates([header("A", "seed")], [header("B", "  seed  ")])
    assert [t.slug for t in merged] == ["seed"]


def test_same_slug_twice_in_one_call_keeps_both() -> None:
    # The reference silently drops the first (case 18); we keep both with distinct slugs.
    merged = merge_templates([], [header("A", "x"), header("B", "x")])
    assert merged[0].slug == "x"
    assert len(merged) == 2 and merged[1].slug != "x"


def test_replace_mode_keeps_only_declared_with_kind_default_slugs() -> None:
    derived = [header("X-Seed", "seed"), header("X-Custom", "my_custom")]
    result = combine(derived, [header("X-Seed", "seed")], "replace")  # case 14
    assert [t.slug for t in result] == ["seed"]
    defaults = combine([], [OAuth2Template(), header("Authorization", prefix="Bearer ")], "replace")
    assert [t.slug for t in defaults] == ["oauth2", "header"]  # case 16


def test_explicit_empty_list_means_no_auth() -> None:
    assert combine([header("Authorization", "apikey-0")], [], "merge") == []  # case 28
    assert [t.slug for t in combine([header("A", "apikey-0")], None, None)] == ["apikey-0"]


def test_normalize_slugs_defaults_and_collisions() -> None:
    result = normalize_slugs(
        [
            ApiKeyTemplate(placements=[]),
            ApiKeyTemplate(placements=[]),
            ApiKeyTemplate(slug="apikey", placements=[]),
            OAuth2Template(slug="  "),
        ]
    )
    assert [t.slug for t in result] == ["apikey", "apikey_2", "apikey_3", "oauth2"]  # case 17


def test_custom_slug_avoids_taken_slugs() -> None:
    template = header("X-Key")
    first = custom_slug(template, [])
    assert custom_slug(template, [first]) != first


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (header("X-API-Key", "apikey-0"), {"label": "API key (X-API-Key)", "kind": "apikey"}),
        (NoneTemplate(slug="none"), {"label": "No authentication", "kind": "none"}),
        (OAuth2Template(slug="oauth", token_url="https://t"), {"label": "OAuth2", "kind": "oauth"}),
    ],
)
def test_descriptors(template: ApiKeyTemplate, expected: dict[str, str]) -> None:
    descriptor = describe(template).dump()
    assert {k: descriptor[k] for k in expected} == expected
    assert descriptor["id"] == descriptor["template"] == template.slug


def test_descriptor_placement_prefix_defaults_to_empty() -> None:
    placement = describe(header("token", "query"))
    assert placement.placements is not None
    assert placement.placements[0].prefix == ""  # case 34


@pytest.mark.parametrize(
    "raw",
    [None, "nope", [{"kind": "telepathy"}], [{"kind": "apikey", "placements": "x"}], {"a": 1}],
)
def test_malformed_config_describes_as_empty(raw: object) -> None:
    assert describe_all(raw) == []  # case 35: never a failed read


def test_render_placements() -> None:
    bearer = header("Authorization", prefix="Bearer ")
    assert render(bearer, {"token": "abc"})["headers"] == {"Authorization": "Bearer abc"}
    two = ApiKeyTemplate(
        placements=[
            AuthPlacement(carrier="header", name="DD-API-KEY", variable="dd_api_key"),
            AuthPlacement(carrier="query", name="app", variable="dd_application_key"),
            AuthPlacement(carrier="cookie", name="session", literal="fixed"),
        ]
    )
    rendered = render(two, {"dd_api_key": "k1"})
    assert rendered["headers"] == {"DD-API-KEY": "k1"}
    assert rendered["query"] == {}  # a missing value skips its placement
    assert rendered["cookies"] == {"session": "fixed"}
    assert required_variables(two) == ["dd_api_key", "dd_application_key"]


def test_parse_templates_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="kind"):
        parse_templates([{"kind": "telepathy"}])
