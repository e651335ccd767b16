"""The fixed lists an organisation profile is checked against: NACE Rev. 2 sections and ISO 3166-1 countries.

Sector advisories (a ``report`` labelled for a sector) reach the organisations of that section, so the
list is fixed and short: the 21 sections of the EU's statistical classification of economic activities.
"""

from __future__ import annotations

from iso3166 import countries_by_alpha2

from exchange.core.errors import BadRequest

NACE_SECTIONS = {
    "A": "Agriculture, forestry and fishing",
    "B": "Mining and quarrying",
    "C": "Manufacturing",
    "D": "Electricity, gas, steam and air conditioning supply",
    "E": "Water supply; sewerage, waste management and remediation activities",
    "F": "Construction",
    "G": "Wholesale and retail trade; repair of motor vehicles and motorcycles",
    "H": "Transportation and storage",
    "I": "Accommodation and food service activities",
    "J": "Information and communication",
    "K": "Financial and insurance activities",
    "L": "Real estate activities",
    "M": "Professional, scientific and technical activities",
    "N": "Administrative and support service activities",
    "O": "Public administration and defence; compulsory social security",
    "P": "Education",
    "Q": "Human health and social work activities",
    "R": "Arts, entertainment and recreation",
    "S": "Other service activities",
    "T": "Activities of households as employers",
    "U": "Activities of extraterritorial organisations and bodies",
}


def section(value: str) -> str:
    letter = value.strip().upper()
    if letter not in NACE_SECTIONS:
        raise BadRequest(f"{value[:20]!r} is not a NACE Rev. 2 section letter (A to U), e.g. C for manufacturing")
    return letter


def country(value: str) -> str:
    code = value.strip().upper()
    if code not in countries_by_alpha2:
        raise BadRequest(f"{value[:20]!r} is not an ISO 3166-1 alpha-2 country code, e.g. FR")
    return code
