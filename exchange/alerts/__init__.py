"""Alerts: which organisation must hear about which published object, and what it answered.

``models`` holds the alert and its events (the outbox that delivery reads); matching, wording,
answers and delivery are separate modules beside it. See docs/decisions/0011-alerts.md.
"""
