"""The one error the engine raises on a pattern it refuses."""

from __future__ import annotations


class PatternError(ValueError):
    """Why a pattern is refused, with the character offset where it was noticed (-1: the whole)."""

    def __init__(self, message: str, position: int = -1) -> None:
        super().__init__(message if position < 0 else f"{message} at offset {position}")
        self.position = position
