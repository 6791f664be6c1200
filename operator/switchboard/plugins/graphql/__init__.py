"""The built-in GraphQL plugin."""

from switchboard.plugins.graphql.plugin import GraphqlPlugin, plugin

__all__ = ["GraphqlPlugin", "plugin"]
