"""Catalog services: slugs, registration, queries, connections, detection. Pure where possible."""
