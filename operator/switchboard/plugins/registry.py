"""The plugin registry: loads plugins from the `switchboard.plugins` entry points, validated."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib.metadata import EntryPoint, entry_points

from switchboard.errors import PluginLoadError, UnknownKindError
from switchboard.plugins.contract import Plugin

ENTRY_POINT_GROUP = "switchboard.plugins"
PLUGIN_ID = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
REQUIRED_HOOKS = (
    "register",
    "describe_auth_methods",
    "describe_display",
    "detect",
    "resolve_tools",
    "can_refresh",
    "presets",
    "static_tools",
)

log = logging.getLogger(__name__)


class PluginRegistry:
    """Plugins in registration order (`order`, then id). Built from entry points, each plugin is
    imported on first use: `get(kind)` imports that plugin alone, iterating imports them all, so
    a command that needs one plugin (or none) does not pay for the others' SDKs."""

    def __init__(
        self,
        plugins: Iterable[Plugin] = (),
        *,
        entries: Mapping[str, Callable[[], Plugin]] | None = None,
    ) -> None:
        self._entries = dict(entries or {})
        self._single: dict[str, Plugin] = {}
        self._loaded: dict[str, Plugin] | None = None if entries else self._index(plugins)

    @staticmethod
    def _index(plugins: Iterable[Plugin]) -> dict[str, Plugin]:
        ordered = sorted(plugins, key=lambda p: (getattr(p, "order", 100), p.id))
        index: dict[str, Plugin] = {}
        for plugin in ordered:
            if plugin.id in index:
                raise PluginLoadError(f"plugin id {plugin.id!r} is registered twice")
            index[plugin.id] = plugin
        return index

    def _load(self, name: str) -> Plugin:
        if name not in self._single:
            self._single[name] = self._entries[name]()
        return self._single[name]

    @property
    def _plugins(self) -> dict[str, Plugin]:
        if self._loaded is None:
            self._loaded = self._index(self._load(name) for name in self._entries)
        return self._loaded

    def __iter__(self) -> Iterator[Plugin]:
        return iter(self._plugins.values())

    def __contains__(self, kind: object) -> bool:
        if self._loaded is None and isinstance(kind, str):
            return kind in self._entries
        return kind in self._plugins

    @property
    def ids(self) -> list[str]:
        return list(self._plugins)

    def get(self, kind: str) -> Plugin:
        if self._loaded is None and kind in self._entries:
            return self._load(kind)
        try:
            return self._plugins[kind]
        except KeyError:
            known = ", ".join(sorted(k for k in self._plugins if k != "builtin"))
            raise UnknownKindError(
                f"no plugin handles kind {kind!r} (known: {known}, auto)", field="spec.kind"
            ) from None


def validate(candidate: object, *, name: str) -> Plugin:
    """Check that `candidate` honours the contract; fail with the plugin's name otherwise."""
    plugin_id = getattr(candidate, "id", None)
    if not isinstance(plugin_id, str) or not PLUGIN_ID.match(plugin_id):
        raise PluginLoadError(f"plugin {name!r}: `id` must match {PLUGIN_ID.pattern}")
    missing = [hook for hook in REQUIRED_HOOKS if not callable(getattr(candidate, hook, None))]
    if missing:
        raise PluginLoadError(f"plugin {name!r}: missing hooks: {', '.join(missing)}")
    if not isinstance(candidate, Plugin):  # pragma: no cover - the checks above cover it
        raise PluginLoadError(f"plugin {name!r} does not implement the contract")
    return candidate


def _load_one(entry: EntryPoint) -> Plugin:
    try:
        loaded = entry.load()
    except Exception as exc:  # a third-party import can raise anything; name the plugin
        raise PluginLoadError(f"plugin {entry.name!r} failed to import: {exc}") from exc
    candidate = loaded() if isinstance(loaded, type) else loaded
    plugin = validate(candidate, name=entry.name)
    if plugin.id != entry.name:
        raise PluginLoadError(
            f"plugin {entry.name!r}: its id {plugin.id!r} differs from its entry-point name"
        )
    log.debug("loaded plugin %s", entry.name)
    return plugin


def _entries(wanted: set[str] | None) -> dict[str, EntryPoint]:
    return {
        entry.name: entry
        for entry in entry_points(group=ENTRY_POINT_GROUP)
        if wanted is None or entry.name in wanted
    }


def _loader(entry: EntryPoint) -> Callable[[], Plugin]:
    return lambda: _load_one(entry)


def load_plugins(names: Iterable[str] | None = None, *, lazy: bool = False) -> PluginRegistry:
    """Every plugin in the entry-point group (or only `names`), validated; with `lazy`, each on
    first use (a broken plugin then fails, with its name, the first time it is needed)."""
    found = _entries(set(names) if names is not None else None)
    if lazy:
        return PluginRegistry(entries={name: _loader(entry) for name, entry in found.items()})
    return PluginRegistry([_load_one(entry) for entry in found.values()])
