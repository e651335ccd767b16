"""Outgoing messages: mail now; alert deliveries (webhooks, digests) build on it."""
