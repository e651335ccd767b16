"""Column types shared by every feature's tables."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer

# A 64-bit key that is still SQLite's rowid alias (so it autoincrements there).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
