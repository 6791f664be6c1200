"""Catalog services: slugs, auth templates, registration, queries, connections. Pure where possible."""
