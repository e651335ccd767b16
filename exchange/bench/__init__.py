"""Benchmarks behind ``exchange bench``: measured, reported, never asserted in tests."""
