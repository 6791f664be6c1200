"""Switchboard: a declarative catalog of API integrations, reconciled from Kubernetes or files."""

__version__ = "0.1.0"
