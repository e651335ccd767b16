"""Organisations, API keys and the authentication dependencies."""
