"""The built-in OpenAPI plugin."""

from switchboard.plugins.openapi.plugin import OpenApiPlugin, plugin

__all__ = ["OpenApiPlugin", "plugin"]
