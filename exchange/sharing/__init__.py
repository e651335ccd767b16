"""sharing layer: see docs/decisions/0008-layout.md."""
