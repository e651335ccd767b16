"""Tables of the asset inventory: one row per asset of an organisation, and the organisation's profile.

Values are stored normalised (``exchange.assets.normalise``) the way ``observable`` rows are, so alert
matching is an equality or range join: hosts lower-case ASCII (IDNA) without a trailing dot, IP
addresses and CIDR ranges as a closed range ``ip_lo``..``ip_hi`` of 32-hex-digit integers (IPv4
mapped into ``::ffff:0:0/96``, exactly like ``Observable``).

Software is kept both as its canonical text (``value``: a CPE 2.3 formatted string or a package URL)
and split into the parts matching compares: ``sw_vendor`` (CPE vendor, or purl namespace),
``sw_product`` (CPE product, or purl name), ``sw_version`` (None for "any version") and
``sw_purl_type`` (the purl type, None for a CPE).

Timestamps are µs since the epoch, UTC, like every other table.
"""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.core.columns import BigIntPK, key_string
from exchange.core.db import Base


class AssetKind(enum.StrEnum):
    domain = "domain"  # covers its subdomains
    mail_domain = "mail-domain"  # e-mail addresses at this domain
    ipv4 = "ipv4"  # one address
    ipv6 = "ipv6"
    cidr = "cidr"  # a v4 or v6 range, no wider than the settings allow
    asn = "asn"  # an autonomous system number, value in decimal
    url = "url"
    software = "software"  # CPE 2.3 or package URL


class VerificationMethod(enum.StrEnum):
    dns = "dns"  # TXT record at the domain
    http = "http"  # file or <meta> tag at https://DOMAIN/.well-known/exchange-verification
    email = "email"  # confirmation link mailed to security@ / postmaster@ the domain
    rdap = "rdap"  # confirmation link mailed to the abuse contact RDAP names for a range or AS
    approval = "approval"  # a CSIRT or admin organisation vouched for it (audited)
    declared = "declared"  # software: nothing to prove (see exchange.assets.service.SELF_EVIDENT)


class Asset(Base):
    """An asset one organisation registered; it reveals nothing about matches until ``verified_at`` is set
    and ``verification_expires_at`` has not passed."""

    __tablename__ = "asset"
    __table_args__ = (
        UniqueConstraint("org_pk", "kind", "value"),
        Index("ix_asset_kind_value", "kind", "value"),
        Index("ix_asset_ip", "ip_lo", "ip_hi", sqlite_where=text("ip_lo IS NOT NULL"),
              postgresql_where=text("ip_lo IS NOT NULL")),
    )

    pk: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # No index of its own: the unique (org_pk, kind, value) starts with it.
    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(key_string(16))  # an AssetKind value
    value: Mapped[str] = mapped_column(key_string(1024))  # normalised
    ip_lo: Mapped[str | None] = mapped_column(key_string(32))
    ip_hi: Mapped[str | None] = mapped_column(key_string(32))
    sw_vendor: Mapped[str | None] = mapped_column(String(200))
    sw_product: Mapped[str | None] = mapped_column(String(200))
    sw_version: Mapped[str | None] = mapped_column(String(100))
    sw_purl_type: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[int] = mapped_column(BigInteger)
    # Public challenge the owner publishes (DNS TXT, .well-known file): not a secret, since only whoever
    # controls the domain can publish it, and it is bound to this row (one organisation).
    challenge: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[int | None] = mapped_column(BigInteger)
    verified_by: Mapped[int | None] = mapped_column(ForeignKey("org.pk", ondelete="SET NULL"))  # approving org
    verification_method: Mapped[str | None] = mapped_column(String(16))  # a VerificationMethod value
    verification_expires_at: Mapped[int | None] = mapped_column(BigInteger, index=True)
    checked_at: Mapped[int | None] = mapped_column(BigInteger)  # last verification attempt
    # The mailed confirmation link is a secret: only its SHA-256 is kept, and cleared when used (single use).
    link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[int | None] = mapped_column(BigInteger)
    link_sent_to: Mapped[str | None] = mapped_column(String(320))  # the address the link went to


class OrgProfile(Base):
    """What sector advisories and statistics need about an organisation: NACE section and country."""

    __tablename__ = "org_profile"

    org_pk: Mapped[int] = mapped_column(ForeignKey("org.pk", ondelete="CASCADE"), primary_key=True)
    sector: Mapped[str | None] = mapped_column(String(1))  # NACE Rev. 2 section letter A..U
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2, upper case
    updated_at: Mapped[int] = mapped_column(BigInteger)
