"""Pydantic models of the REST API (documentation and validation of what crosses the wire)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


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
    next: str | None = Field(description="Pass as `cursor` to get the next page")


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


class ErrorOut(BaseModel):
    title: str
    description: str
    http_status: str
    details: dict[str, Any] | None = None
