"""Runtime configuration, read only from ``EXCHANGE_*`` environment variables and ``.env``.

One settings object is built at the edge (CLI, app factory, tests) and passed down, so nothing
reads the environment at import time and tests can run several configurations side by side.
"""

from __future__ import annotations

import ipaddress

from limits import parse
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXCHANGE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./exchange.core.db",
        description="SQLAlchemy URL. SQLite (embedded default) or postgresql+psycopg://user@host/db.",
    )
    database_pool_timeout: float = Field(
        default=30.0, gt=0, le=600,
        description="Seconds a request waits for a pooled database connection before the hub answers 503.",
    )
    requests_at_once: int = Field(
        default=3, ge=1, le=1000,
        description="Requests one server process works on at once (at most its database connections); the others "
        "wait their turn in arrival order. Python runs one thread of a process at a time: more at once only "
        "made them queue for it (decision 0014, \"Requests at once\"). Add server processes (`--workers`) "
        "to use more cores.",
    )
    host: str = Field(default="127.0.0.1", description="Address `exchange serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `exchange serve` listens on.")
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public URL of the hub: every absolute URL it builds (TAXII discovery, API roots, links) "
        "starts with it; the request's Host header is never used. `exchange serve --host/--port` derive it "
        "when it is not set.",
    )
    smtp_url: str = Field(default="smtp://127.0.0.1:1025", description="Outgoing mail server for alerts.")
    max_body_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1024, description="Largest request body accepted; larger bodies get 413."
    )
    body_timeout_seconds: float = Field(
        default=30.0, gt=0,
        description="Time a client has to send a whole request body; a slower body gets 408.",
    )
    max_body_bytes_in_flight: int = Field(
        default=128 * 1024 * 1024, ge=1024,
        description="Request-body bytes the process holds at once, over all requests; a body that would "
        "pass it gets 503 with Retry-After (bounds memory under concurrent large POSTs).",
    )
    metrics_token: str = Field(
        default="", description="Bearer token that may read `/metrics` from any address (empty: none)."
    )
    metrics_allow: list[str] = Field(
        default=["127.0.0.1/32", "::1/128"],
        description='Networks that may read `/metrics` without a token, as JSON: `["10.0.0.0/8"]`. '
        "Default: loopback only. Others get 404.",
    )
    max_page_size: int = Field(default=1000, ge=1, description="Upper bound on any list page (`limit`).")
    default_page_size: int = Field(default=100, ge=1, description="Page size when the client names none.")
    ingest_batch_size: int = Field(
        default=5000, ge=1, description="Objects per database transaction on CLI import and benchmarks."
    )
    ingest_queue_from: int = Field(
        default=500, ge=0,
        description="TAXII envelopes with at least this many objects are accepted at once (202, status "
        "\"pending\") and stored in the background, merged with other queued envelopes; smaller ones are "
        "stored before the answer (status \"complete\"). 0: store every envelope before answering.",
    )
    ingest_merge_objects: int = Field(
        default=10_000, ge=1, description="Most objects the background ingester stores in one transaction."
    )
    ingest_prepare_processes: int = Field(
        default=1, ge=0,
        description="Helper processes that parse and validate queued envelopes while the ingester writes "
        "(0: in the ingester's own thread; none are started while ingest_queue_from is 0).",
    )
    ingest_poll_seconds: float = Field(
        default=1.0, gt=0,
        description="How often the ingester looks for envelopes queued by other replicas or left by a crash.",
    )
    log_level: str = Field(default="INFO", description="Python logging level name.")
    worker_tick_seconds: int = Field(default=60, ge=1, description="Heartbeat interval of `exchange worker`.")
    worker_purge_seconds: int = Field(
        default=3600, ge=1, description="How often a worker purges expired TAXII status resources."
    )
    worker_lease_seconds: int = Field(
        default=900, ge=1,
        description="Longest a scheduled job may run: until then no other worker starts it; a worker that "
        "died mid-run frees it after this.",
    )
    rate_limit_per_ip: str = Field(
        default="200/second",
        description="Requests per client address, e.g. `200/second` or `5000/minute`; empty to disable. "
        "Health and metrics endpoints are exempt.",
    )
    rate_limit_per_key: str = Field(
        default="100/second", description="Requests per API key, e.g. `100/second`; empty to disable."
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where the rate-limit counters live: `memory://` (per process) or `redis://host:6379` "
        "(shared by replicas and workers; needs `pip install 'limits[async-redis]'`).",
    )
    smtp_from: str = Field(default="exchange@localhost", description="Sender address of the mail the hub sends.")
    assets_allow_reserved: bool = Field(
        default=False,
        description="Accept private, reserved and documentation addresses, ranges, AS numbers and names "
        "(`.test`, `.example`, `example.com`, 192.0.2.0/24, 2001:db8::/32) as assets: tests and demos only.",
    )
    assets_max_prefix_v4: int = Field(
        default=16, ge=0, le=32, description="Widest IPv4 range an asset may be: /16 means at most 65,536 addresses."
    )
    assets_max_prefix_v6: int = Field(default=32, ge=0, le=128, description="Widest IPv6 range an asset may be.")
    assets_verification_days: int = Field(
        default=365, ge=1, description="How long a verified asset stays verified before it must be checked again."
    )
    assets_link_hours: int = Field(default=72, ge=1, description="How long a mailed confirmation link is valid.")
    assets_recheck_seconds: int = Field(
        default=86400, ge=1, description="How often a worker re-checks verifications that expire within 30 days."
    )
    feeds_tick_seconds: int = Field(
        default=60, ge=1, description="How often a worker looks for feeds whose interval has passed."
    )
    assets_dns_nameservers: list[str] = Field(
        default=[], description='Resolvers asked for TXT records, as JSON: `["9.9.9.9"]`. Empty: the system\'s.'
    )
    assets_dns_port: int = Field(default=53, ge=1, le=65535, description="Port of `assets_dns_nameservers`.")
    assets_http_insecure: bool = Field(
        default=False,
        description="Fetch `/.well-known/exchange-verification` over plain http and from loopback addresses "
        "(tests only); production fetches https from public addresses only.",
    )
    assets_http_resolve: dict[str, str] = Field(
        default={}, description='Fixed addresses for verification fetches, as JSON `{"shop.test": "127.0.0.1:8080"}` '
        "(tests only; the address must still pass the public-address rule unless `assets_http_insecure`).",
    )
    assets_rdap_url: str = Field(
        default="https://rdap.org", description="RDAP service asked for the abuse contact of an IP range or AS."
    )
    webhook_allowed_hosts: list[str] = Field(
        default=[], description='Host names or addresses webhooks may reach although they resolve to loopback, '
        'private, link-local or metadata addresses, as JSON: `["127.0.0.1", "hooks.internal"]` (tests, demos).',
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="Longest wait for a webhook endpoint.")
    delivery_dispatch_seconds: float = Field(
        default=0.25, gt=0, description="How often every worker looks for alert events to fan out and messages to "
        "send (a read of two index entries when there is none; new objects are matched as often).")
    delivery_batch_size: int = Field(default=200, ge=1, description="Messages a worker claims at once.")
    delivery_lease_seconds: int = Field(
        default=300, ge=1,
        description="How long a claimed message stays with its worker; a worker that died frees it after this, "
        "and another sends it again under the same id.",
    )
    delivery_max_attempts: int = Field(
        default=15, ge=1,
        description="Attempts before a message is dead-lettered (15: backoff from 1 minute doubling, capped at "
        "12 hours, about three days).",
    )
    delivery_org_hourly_cap: int = Field(
        default=500, ge=1, description="Messages one organisation gets per hour; the rest wait for the next hour.")
    delivery_retention_days: int = Field(default=90, ge=1, description="How long sent messages stay listed.")
    dkim_domain: str = Field(default="", description="Sign outgoing alert mail with DKIM for this domain (empty: no).")
    dkim_selector: str = Field(default="exchange", description="DKIM selector (the DNS name `<selector>._domainkey`).")
    dkim_private_key: str = Field(default="", description="PEM private key for DKIM, or a path to a file holding it.")
    mail_return_path: str = Field(
        default="", description="Envelope sender of alert mail, e.g. `bounces@hub.example`: each message goes out "
        "from `bounces+<delivery id>@hub.example` (VERP), so a bounce names the message it returns. The mail "
        "server pipes mail to that address into `exchange delivery bounce`. Empty: the From address.",
    )
    cors_origins: list[str] = Field(
        default=[],
        description='Origins whose browser scripts may call the API, as JSON: `["https://portal.example"]`. '
        "Empty (the default): no cross-origin access.",
    )

    web_session_idle_minutes: int = Field(
        default=60, ge=1, description="A web session ends after this many minutes without a page view.")
    web_session_hours: int = Field(
        default=12, ge=1, description="A web session ends this many hours after sign-in, however active.")
    web_link_minutes: int = Field(default=15, ge=1, description="How long a mailed web sign-in link is valid.")
    web_signin_limit: str = Field(
        default="10/15minutes",
        description="Sign-in attempts (password or link request) per e-mail address and per client address.")
    web_signin_storage: str = Field(
        default="memory://", description="Where the sign-in attempt counters live (as `rate_limit_storage`).")
    web_export_max_rows: int = Field(
        default=100_000, ge=1, description="Most objects one web export (STIX bundle, CSV, blocklist) may hold.")

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        """A malformed network fails at start-up, not on the first scrape."""
        for net in value:
            ipaddress.ip_network(net, strict=False)
        return value

    @field_validator("rate_limit_per_ip", "rate_limit_per_key")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        """A typo in a limit fails at start-up, not on the first request."""
        if value:
            parse(value)
        return value
