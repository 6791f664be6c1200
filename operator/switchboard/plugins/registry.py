"""The plugin registry: loads plugins from the `switchboard.plugins` entry points, validated."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
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
    """Plugins in registration order (`order`, then id). With a `loader`, plugins are imported on
    first use, so commands that need none (a no-op reconcile) do not pay for their SDKs."""

    def __init__(
        self,
        plugins: Iterable[Plugin] = (),
        *,
        loader: Callable[[], Iterable[Plugin]] | None = None,
    ) -> None:
        self._loader = loader
        self._loaded: dict[str, Plugin] | None = None if loader else self._index(plugins)

    @staticmethod
    def _index(plugins: Iterable[Plugin]) -> dict[str, Plugin]:
        ordered = sorted(plugins, key=lambda p: (getattr(p, "order", 100), p.id))
        index: dict[str, Plugin] = {}
        for plugin in ordered:
            if plugin.id in index:
                raise PluginLoadError(f"plugin id {plugin.id!r} is registered twice")
            index[plugin.id] = plugin
        return index

    @property
    def _plugins(self) -> dict[str, Plugin]:
        if self._loaded is None:
            assert self._loader is not None
            self._loaded = self._index(self._loader())
        return self._loaded

    def __iter__(self) -> Iterator[Plugin]:
        return iter(self._plugins.values())

    def __contains__(self, kind: object) -> bool:
        return kind in self._plugins

    @property
    def ids(self) -> list[str]:
        return list(self._plugins)

    def get(self, kind: str) -> Plugin:
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
    return validate(candidate, name=entry.name)


def _load_all(wanted: set[str] | None) -> list[Plugin]:
    plugins = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if wanted is not None and entry.name not in wanted:
            continue
        plugins.append(_load_one(entry))
        log.debug("loaded plugin %s", entry.name)
    return plugins


def load_plugins(names: Iterable[str] | None = None, *, lazy: bool = False) -> PluginRegistry:
    """Every plugin in the entry-point group (or only `names`), validated; with `lazy`, on first
    use (a broken plugin then fails, with its name, the first time the registry is used)."""
    wanted = set(names) if names is not None else None
    if lazy:
        return PluginRegistry(loader=lambda: _load_all(wanted))
    return PluginRegistry(_load_all(wanted))
