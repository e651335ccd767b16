"""Pydantic models of the REST API (documentation and validation of what crosses the wire)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from exchange.core.text import NoNul
from exchange.sharing.catalog import API_ROOT_NAME


class ObjectResultOut(BaseModel):
    id: str | None = Field(description="STIX id of the object, when it had a usable one")
    version: str | None = Field(description="`modified` (or `created`) of the version")
    status: Literal["added", "duplicate", "rejected"] = Field(
        description="added: stored; duplicate: this version was already stored (a success); rejected: invalid"
    )
    message: str = Field(description="Why an object was rejected or not stored; empty when added")


class IngestOut(BaseModel):
    added: int
    duplicates: int
    rejected: int
    results: list[ObjectResultOut] = Field(description="One entry per submitted object, in order")


class BundleIn(BaseModel):
    """A STIX 2.1 bundle (or TAXII envelope). Objects are validated one by one by the ingest path."""

    type: Literal["bundle"] | None = None
    id: str | None = None
    objects: list[dict[str, Any]] = Field(description="STIX 2.1 objects")


class ObjectPageOut(BaseModel):
    objects: list[dict[str, Any]] = Field(description="STIX objects exactly as they were accepted")
    more: bool = Field(description="Whether another page follows")
    next: str | None = Field(description="Pass as `next` (with the same filters) to get the next page")


class ObjectVersionsOut(BaseModel):
    objects: list[dict[str, Any]] = Field(description="The current version, or all versions oldest first")


class ObservableMatchOut(BaseModel):
    kind: str = Field(description="domain, ipv4, ipv6, url, email, email-domain, md5, sha1, sha256, sha512, cve, cpe")
    value: str = Field(description="The normalised stored value that matched")
    object_id: str
    object_type: str
    tlp: str
    name: str | None = None
    valid_until: str | None = None


class ObservableLookupOut(BaseModel):
    value: str
    known: bool = Field(description="True when at least one readable current object mentions the value")
    matches: list[ObservableMatchOut]


class ApiRootIn(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=f"^{API_ROOT_NAME.pattern}$",
                      description="Path segment of its URL, /taxii2/{name}/")
    title: NoNul = Field(min_length=1, max_length=200)
    description: NoNul = Field(default="", max_length=2000)


class ApiRootOut(BaseModel):
    name: str
    title: str
    description: str
    url: str = Field(description="The API root's TAXII 2.1 URL")


class CollectionIn(BaseModel):
    title: NoNul = Field(min_length=1, max_length=200)
    description: NoNul = Field(default="", max_length=2000)
    api_root: NoNul = Field(default="default", max_length=64)
    default_tlp: Literal["clear", "white", "green", "amber", "amber+strict", "red"] = Field(
        default="green", description="TLP of objects that carry no TLP marking")
    sharing_group: NoNul | None = Field(default=None, max_length=64, description=(
        "Sharing group id: its members are the audience, and TLP:AMBER objects reach them. "
        "Without one, the whole community is the audience."))
    public: bool = Field(default=False, description="Anonymous clients may read its TLP:CLEAR objects")
    members_read: bool = Field(default=True, description="The audience may read")
    audience_write: bool = Field(default=False, description=(
        "The audience may write (in a community collection: csirt, isac and admin organisations only)"))


class CollectionOut(BaseModel):
    id: str
    api_root: str
    title: str
    description: str
    default_tlp: str
    owner: str | None = Field(description="Slug of the owner organisation")
    sharing_group: str | None
    public: bool
    can_read: bool
    can_write: bool


class GrantIn(BaseModel):
    read: bool = False
    write: bool = False
