"""Scheduled jobs: which service function runs when. Jobs hold no business logic."""
