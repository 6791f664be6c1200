"""Adapters: database, manifest files, outbound HTTP, Kubernetes. Third-party errors stop here."""
