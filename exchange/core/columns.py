"""Column types shared by every feature's tables."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.types import TypeEngine

# A 64-bit key that is still SQLite's rowid alias (so it autoincrements there).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
# Another table's BigIntPK, held without a foreign key (the bulk tables of ``stix``): the same type.
BigIntRef = BigIntPK


def key_string(length: int) -> TypeEngine[str]:
    """A string that is only ever compared for equality or as ASCII (ids, types, indicator values,
    fixed-width hex): PostgreSQL compares it byte by byte (collation "C") instead of by the
    database's locale, which made every index look-up and insert on it about twice as slow
    (decision 0006). SQLite compares bytes anyway.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")
