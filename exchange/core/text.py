"""The NUL rule, in one place: NUL is refused in every text the hub takes (URLs, names, observables).

It is never meaningful in a name, an identifier or an indicator value, and PostgreSQL text cannot
hold it: refusing it up front gives a clear 4xx instead of a database error.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import StringConstraints

NUL: Final = "\x00"
# NUL as regular expressions and JSON Schema patterns spell it, to exclude it from a character class.
NUL_ESCAPE: Final = r"\x00"
NO_NUL: Final = rf"^[^{NUL_ESCAPE}]*$"  # a pattern every NUL-free string matches; documented in the schemas

NoNul = Annotated[str, StringConstraints(pattern=NO_NUL)]
