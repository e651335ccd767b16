"""Feeds: other sources the hub keeps in sync with (TAXII collections, blocklists, catalogues), their
records, runs and schedule. The per-format code is in the top-level ``connectors`` package."""
