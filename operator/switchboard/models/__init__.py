"""Pydantic models: the resources, their status, auth templates, catalog records. No I/O."""
