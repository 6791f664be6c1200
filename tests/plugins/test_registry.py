"""The plugin registry: built-ins load through entry points; broken plugins fail with their name."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from switchboard.errors import PluginLoadError, UnknownKindError
from switchboard.plugins.contract import BasePlugin
from switchboard.plugins.registry import PluginRegistry, _load_one, load_plugins, validate


def test_builtins_are_registered_like_strangers() -> None:
    registry = load_plugins()
    assert registry.ids[:2] == ["builtin", "openapi"]
    assert {"mcp", "graphql"} <= set(registry.ids)


def test_unknown_kind_names_the_field_and_the_known_kinds() -> None:
    with pytest.raises(UnknownKindError, match=r"spec\.kind: .*'soap'.*openapi"):
        load_plugins().get("soap")


class _NoHooks:
    id = "nohooks"


class _BadId(BasePlugin):
    id = "Bad Id"


def test_validation_names_the_plugin() -> None:
    with pytest.raises(PluginLoadError, match=r"'nohooks'.*missing hooks: register"):
        validate(_NoHooks(), name="nohooks")
    with pytest.raises(PluginLoadError, match=r"'bad'.*id"):
        validate(_BadId(), name="bad")


def test_a_plugin_that_fails_to_import_fails_with_its_name() -> None:
    entry = EntryPoint(
        name="ghost", value="switchboard_ghost_module:plugin", group="switchboard.plugins"
    )
    with pytest.raises(PluginLoadError, match="plugin 'ghost' failed to import"):
        _load_one(entry)


def test_duplicate_ids_are_refused() -> None:
    class One(BasePlugin):
        id = "same"

    with pytest.raises(PluginLoadError, match="twice"):
        PluginRegistry([One(), One()])  # type: ignore[list-item]


def test_lazy_registry_imports_only_the_plugin_asked_for() -> None:
    loaded: list[str] = []

    class Named(BasePlugin):
        def __init__(self, name: str) -> None:
            self.id = name

    def entry(name: str):  # type: ignore[no-untyped-def]
        def load() -> Named:
            loaded.append(name)
            return Named(name)

        return load

    registry = PluginRegistry(entries={n: entry(n) for n in ("alpha", "beta")})
    assert "beta" in registry and loaded == []
    assert registry.get("alpha").id == "alpha"
    assert loaded == ["alpha"]
    assert registry.ids == ["alpha", "beta"]
    assert loaded == ["alpha", "beta"]


def test_entry_point_name_must_match_the_plugin_id() -> None:
    entry = EntryPoint(
        name="notopenapi", value="switchboard.plugins.openapi:plugin", group="switchboard.plugins"
    )
    with pytest.raises(PluginLoadError, match="differs from its entry-point name"):
        _load_one(entry)
