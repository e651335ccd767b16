"""The inventory: add, list, remove assets; mark them verified; the organisation's sector and country.

Services take a session and never commit (the request, command or job owns the transaction). Who may
act on whose assets is decided here, once, for the REST API and the web pages alike: an organisation
manages its own; csirt and admin organisations may act for any (onboarding their constituency, and
approving ownership).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.assets import sectors
from exchange.assets.models import Asset, AssetKind, OrgProfile, VerificationMethod
from exchange.assets.normalise import Limits, normalise
from exchange.core.errors import BadRequest, Conflict, Forbidden, NotFound
from exchange.core.settings import Settings
from exchange.core.timestamps import now_micros
from exchange.orgs.models import Org, Role

DAY = 86_400 * 1_000_000  # µs
# Software needs no proof: nobody owns a product, and a software asset only selects vulnerability
# objects the organisation may read anyway (docs/decisions/0010-assets.md).
SELF_EVIDENT = frozenset({AssetKind.software})
NAMED = frozenset({AssetKind.domain, AssetKind.mail_domain, AssetKind.url})
NUMBERED = frozenset({AssetKind.ipv4, AssetKind.ipv6, AssetKind.cidr, AssetKind.asn})


def limits(settings: Settings) -> Limits:
    return Limits(allow_reserved=settings.assets_allow_reserved, max_prefix_v4=settings.assets_max_prefix_v4,
                  max_prefix_v6=settings.assets_max_prefix_v6)


def acts_for_others(org: Org) -> bool:
    """csirt and admin organisations may list, add, remove and approve any organisation's assets."""
    return org.role in (Role.csirt, Role.admin)


def target_org(session: Session, caller: Org, slug: str | None) -> Org:
    """The organisation a request acts on: the caller's own, or ``slug`` when the caller may act for others.
    Another organisation's slug is a 404 for the rest, so slugs cannot be probed."""
    if slug is None or slug == caller.slug:
        return caller
    org = session.scalar(select(Org).where(Org.slug == slug)) if acts_for_others(caller) else None
    if org is None:
        raise NotFound(f"no organisation with slug {slug!r}")
    return org


def methods(kind: AssetKind) -> frozenset[VerificationMethod]:
    """The methods that can prove ownership of an asset of this kind."""
    if kind in NAMED:
        return frozenset({VerificationMethod.dns, VerificationMethod.http, VerificationMethod.email,
                          VerificationMethod.approval})
    if kind in NUMBERED:
        return frozenset({VerificationMethod.rdap, VerificationMethod.approval})
    return frozenset({VerificationMethod.declared})


def is_verified(asset: Asset, now: int | None = None) -> bool:
    """Verified and not expired: the only state in which matches about the asset may be revealed."""
    expires = asset.verification_expires_at
    return asset.verified_at is not None and (expires is None or expires > (now or now_micros()))


def create(session: Session, org: Org, kind: AssetKind, raw: str, *, settings: Settings) -> Asset:
    found = normalise(kind, raw, limits(settings))
    if session.scalar(select(Asset.pk).where(Asset.org_pk == org.pk, Asset.kind == found.kind.value,
                                             Asset.value == found.value)) is not None:
        raise Conflict(f"{org.slug} already has the {found.kind.value} asset {found.value}")
    asset = Asset(org_pk=org.pk, kind=found.kind.value, value=found.value, ip_lo=found.ip_lo, ip_hi=found.ip_hi,
                  sw_vendor=found.sw_vendor, sw_product=found.sw_product, sw_version=found.sw_version,
                  sw_purl_type=found.sw_purl_type, created_at=now_micros(), challenge=secrets.token_urlsafe(24))
    if found.kind in SELF_EVIDENT:
        asset.verified_at = asset.created_at
        asset.verification_method = VerificationMethod.declared.value
    session.add(asset)
    session.flush()
    return asset


def get(session: Session, caller: Org, pk: int) -> Asset:
    """The asset ``pk`` if the caller may act on it; 404 otherwise (ids of others cannot be probed)."""
    asset = session.get(Asset, pk)
    if asset is None or (asset.org_pk != caller.pk and not acts_for_others(caller)):
        raise NotFound(f"no asset {pk}")
    return asset


@dataclass(frozen=True, slots=True)
class Page:
    assets: list[Asset]
    next: str | None  # the last pk of this page, when there is more


def page(session: Session, org: Org, *, limit: int, after: str | None = None, kind: AssetKind | None = None) -> Page:
    """The organisation's assets in insertion order; ``after`` is ``next`` of the previous page (an asset id:
    listings are per organisation, so a plain key reveals nothing and needs no signature)."""
    query = select(Asset).where(Asset.org_pk == org.pk).order_by(Asset.pk).limit(limit + 1)
    if after is not None:
        if not after.isdigit() or len(after) > 18:
            raise BadRequest("'next' must be the 'next' value of the previous page")
        query = query.where(Asset.pk > int(after))
    if kind is not None:
        query = query.where(Asset.kind == kind.value)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, str(rows[-1].pk) if more else None)


def count(session: Session, org: Org) -> int:
    return session.scalar(select(func.count()).select_from(Asset).where(Asset.org_pk == org.pk)) or 0


def remove(session: Session, asset: Asset) -> None:
    session.delete(asset)
    session.flush()


def mark_verified(asset: Asset, method: VerificationMethod, *, settings: Settings, by: Org | None = None) -> None:
    """Verified now, until the configured lifetime passes; a pending confirmation link is spent."""
    now = now_micros()
    asset.verified_at = asset.checked_at = now
    asset.verified_by = by.pk if by is not None else None
    asset.verification_method = method.value
    asset.verification_expires_at = now + settings.assets_verification_days * DAY
    asset.link_hash = asset.link_expires_at = None


def approve(asset: Asset, approver: Org | None, *, settings: Settings) -> None:
    """A csirt or admin organisation vouches for the asset (``approver`` None: the hub's own command line)."""
    if approver is not None and not acts_for_others(approver):
        raise Forbidden("only a csirt or admin organisation may approve ownership of an asset")
    mark_verified(asset, VerificationMethod.approval, settings=settings, by=approver)


def profile(session: Session, org: Org) -> OrgProfile | None:
    return session.get(OrgProfile, org.pk)


def set_profile(session: Session, org: Org, *, sector: str | None, country: str | None) -> OrgProfile:
    """Set the sector (NACE section letter) and country (ISO 3166-1 alpha-2); None leaves a field as it was."""
    row = session.get(OrgProfile, org.pk) or OrgProfile(org_pk=org.pk, updated_at=0)
    if sector is not None:
        row.sector = sectors.section(sector)
    if country is not None:
        row.country = sectors.country(country)
    row.updated_at = now_micros()
    session.add(row)
    session.flush()
    return row
