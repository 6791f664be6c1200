"""Plugins: the contract every integration kind implements, the registry, and the built-ins."""
