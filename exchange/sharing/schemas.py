"""Pydantic models of the sharing-group API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from exchange.core.text import NoNul
from exchange.orgs.schemas import Name


class GroupIn(BaseModel):
    name: Name
    description: Annotated[NoNul, StringConstraints(max_length=2000)] = ""


class GroupOut(BaseModel):
    id: str
    name: str
    description: str
    owner: str = Field(description="Slug of the owner organisation, which manages the membership")
    members: list[str] = Field(description="Slugs of the member organisations (the owner included)")
