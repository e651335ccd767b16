"""Pydantic models of the asset API, and of the inventory document whose JSON Schema is published in
``schemas/asset.json`` (regenerate with ``exchange asset schema > schemas/asset.json``; a test fails
when the file is stale)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from exchange.assets import checks, service
from exchange.assets.models import Asset, AssetKind, OrgProfile, VerificationMethod
from exchange.assets.sectors import NACE_SECTIONS
from exchange.core.text import NO_NUL
from exchange.core.timestamps import from_micros

Text = Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=NO_NUL)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,64}$")]
SCHEMA_ID = "https://exchange.invalid/schemas/asset.json"


class AssetIn(BaseModel):
    kind: AssetKind
    value: Text = Field(description="Domain, CIDR range, address, AS number, URL, CPE 2.3 name or package URL")
    org: Slug | None = Field(default=None, description="Whose asset (csirt and admin organisations only); "
                             "default: the caller's organisation")


class SoftwareOut(BaseModel):
    vendor: str | None = Field(description="CPE vendor, or package URL namespace")
    product: str = Field(description="CPE product, or package URL name")
    version: str | None = Field(description="null: any version")
    purl_type: str | None = Field(description="Package URL type; null for a CPE")


class ChallengeOut(BaseModel):
    """How the owner proves the asset is theirs: publish ``token`` in one of these places."""

    token: str
    dns_txt: str = Field(description="TXT record value to publish at the domain")
    well_known_path: str = Field(description="Path of the file (or page with a <meta> tag) on the domain's web site")
    meta_tag: str


class AssetOut(BaseModel):
    id: int
    org: str = Field(description="Slug of the owning organisation")
    kind: AssetKind
    value: str = Field(description="Normalised: lower-case ASCII host names, canonical ranges, CPE or package URL")
    software: SoftwareOut | None
    created: str
    verified: bool = Field(description="Verified and not expired: only then do alerts reveal what matched")
    verified_at: str | None
    verification_method: VerificationMethod | None
    verification_expires: str | None
    verified_by: str | None = Field(description="Slug of the approving organisation, for an approval")
    methods: list[VerificationMethod] = Field(description="Methods that can verify this asset")
    challenge: ChallengeOut | None = Field(description="For names (domain, mail domain, URL): what to publish "
                                          "for the dns and http methods; null for other kinds")


class AssetPageOut(BaseModel):
    assets: list[AssetOut]
    more: bool
    next: str | None = Field(description="Pass as `next` for the following page")


class VerifyIn(BaseModel):
    method: VerificationMethod
    mailbox: Literal["security", "postmaster"] = Field(
        default="security", description="Method email: the role address at the domain that gets the link")


class VerifyOut(BaseModel):
    asset: AssetOut
    verified: bool
    detail: str = Field(description="What the check found, or where the confirmation link went")
    sent_to: str | None


class ProfileIn(BaseModel):
    sector: Annotated[str, StringConstraints(pattern=r"^[A-Ua-u]$")] | None = Field(
        default=None, description="NACE Rev. 2 section letter, A to U")
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] | None = Field(
        default=None, description="ISO 3166-1 alpha-2 code")


class ProfileOut(BaseModel):
    org: str
    sector: str | None = Field(description="NACE Rev. 2 section letter")
    sector_name: str | None
    country: str | None = Field(description="ISO 3166-1 alpha-2 code")


class Inventory(BaseModel):
    """Everything the hub knows an organisation owns: ``exchange asset list --json`` prints this document."""

    model_config = {"title": "Exchange asset inventory"}

    org: str = Field(description="Slug of the organisation")
    profile: ProfileOut
    assets: list[AssetOut]


def asset_out(asset: Asset, org_slug: str, verified_by: str | None) -> AssetOut:
    kind = AssetKind(asset.kind)
    software = None if asset.sw_product is None else SoftwareOut(
        vendor=asset.sw_vendor, product=asset.sw_product, version=asset.sw_version, purl_type=asset.sw_purl_type)
    challenge = None if kind not in service.NAMED else ChallengeOut(
        token=asset.challenge, dns_txt=f"{checks.PREFIX}{asset.challenge}", well_known_path=checks.WELL_KNOWN,
        meta_tag=f'<meta name="{checks.META_NAME}" content="{asset.challenge}">')
    return AssetOut(
        id=asset.pk, org=org_slug, kind=kind, value=asset.value, software=software,
        created=from_micros(asset.created_at), verified=service.is_verified(asset),
        verified_at=from_micros(asset.verified_at) if asset.verified_at is not None else None,
        verification_method=VerificationMethod(asset.verification_method) if asset.verification_method else None,
        verification_expires=(from_micros(asset.verification_expires_at)
                              if asset.verification_expires_at is not None else None),
        verified_by=verified_by, methods=sorted(service.methods(kind)), challenge=challenge)


def profile_out(org_slug: str, profile: OrgProfile | None) -> ProfileOut:
    sector = profile.sector if profile else None
    return ProfileOut(org=org_slug, sector=sector, sector_name=NACE_SECTIONS.get(sector or ""),
                      country=profile.country if profile else None)


def json_schema() -> dict[str, Any]:
    schema = Inventory.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def json_schema_text() -> str:
    """The file ``schemas/asset.json`` holds, byte for byte."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
