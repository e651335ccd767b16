"""Delivery: who hears about an alert, by which channel, and proof that each message left exactly once.

``models`` (subscriptions, their webhook secrets, deliveries), ``service`` (subscriptions),
``outbox`` (fan-out of alert events into deliveries, claims, outcomes, retries), ``compose`` (what a
message may say), ``webhook`` + ``ssrf``, ``mail``, ``digests``, ``jobs``. Decision 0012.
"""
