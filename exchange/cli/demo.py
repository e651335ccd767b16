"""``serve --demo``: demo organisations with fresh keys, and demo indicators, loaded idempotently."""

from __future__ import annotations

from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session

from exchange.alerts.delivery import service as subscriptions
from exchange.alerts.delivery.models import Channel
from exchange.alerts.delivery.sink import WebhookLog
from exchange.assets import service as assets
from exchange.assets.models import AssetKind
from exchange.cli.common import console, session_factory
from exchange.core.db import transaction
from exchange.core.errors import Conflict, NotFound
from exchange.core.settings import Settings
from exchange.demo import DEMO_ASSETS, DEMO_ORGS, DEMO_SMES, demo_bundle
from exchange.jobs import scheduler
from exchange.orgs import audit
from exchange.orgs import service as orgs
from exchange.orgs.models import Org, Role
from exchange.store.bulk import ingest_stream
from exchange.web import demo as web_demo

DEMO_KEY_NAME = "serve --demo"  # the demo's own keys: the only ones a second run replaces


def load_demo(settings: Settings) -> list[orgs.IssuedKey]:
    """Create (or re-key) the demo organisations and load the demo bundle as the demo CSIRT; return the
    keys it printed.

    Keys exist only as hashes, so a second ``serve --demo`` must issue new ones to print them: it revokes
    only the keys it issued itself (named ``serve --demo``), never keys people made with ``key create``.
    """
    sessions = session_factory(settings)
    issued: list[orgs.IssuedKey] = []
    with transaction(sessions) as session:
        for name, role in DEMO_ORGS:
            slug = orgs.slugify(name)
            try:
                org = orgs.get_by_slug(session, slug)
            except NotFound:
                issued.append(orgs.create(session, name=name, role=Role(role), key_name=DEMO_KEY_NAME))
                audit.record_cli(session, "org.create", slug, f"role {role}, serve --demo")
                continue
            for key in orgs.keys_of(session, org):
                if key.name == DEMO_KEY_NAME and key.user_pk is None:
                    orgs.revoke_key(session, key)
            issued.append(orgs.issue_key(session, org, name=DEMO_KEY_NAME, expires_in_days=orgs.FIRST_KEY_DAYS))
            audit.record_cli(session, "key.rotate", f"{slug}/{DEMO_KEY_NAME}", "serve --demo")
        _demo_assets(session, {i.org.name: i.org for i in issued}, settings)
    csirt = next(i.org.slug for i in issued if i.org.role == Role.csirt)
    identities = {i.org.name: i.org.identity_id for i in issued}
    bundle = demo_bundle(recipients=(identities[DEMO_SMES[0]], identities[DEMO_SMES[1]]))
    totals = ingest_stream(sessions, [bundle["objects"]], org_slug=csirt)
    console.print("[bold]Demo organisations[/bold] (HTTP Basic user = slug, password = key; or Bearer key):")
    for i in issued:  # whole lines, never wrapped or cut: people copy these keys
        console.print(f"  {i.org.name} ({i.org.role.value})\n    slug: {i.org.slug}\n    key:  {i.api_key}",
                      soft_wrap=True, highlight=False)
    console.print(f"demo data: {totals.added} objects added, {totals.duplicates} already there, "
                  f"{totals.rejected} rejected")
    console.print("try: curl -H 'Authorization: Bearer <key>' "
                  f"'http://{settings.host}:{settings.port}/api/v1/observables?value=login.bakery-example.test'",
                  soft_wrap=True)
    console.print("each SME's key reads the findings about it: "
                  f"'http://{settings.host}:{settings.port}/api/v1/objects?type=indicator'", soft_wrap=True)
    web_demo.print_signins(sessions, settings.base_url)
    return issued


def _demo_assets(session: Session, demo_orgs: dict[str, Org], settings: Settings) -> None:
    """The SMEs' domains, network and firewall, vouched for by the demo CSIRT (once): the demo indicators
    name them, so alert matching finds real alerts within seconds of the start."""
    csirt = next(org for org in demo_orgs.values() if org.role == Role.csirt)
    reserved = settings.model_copy(update={"assets_allow_reserved": True})  # the demo's names are .test ones
    for name, owned in DEMO_ASSETS.items():
        org = demo_orgs[name]
        for kind, value in owned:
            try:
                asset = assets.create(session, org, AssetKind(kind), value, settings=reserved)
            except Conflict:  # registered by an earlier serve --demo (the service compares normalised values)
                continue
            if asset.verified_at is None:
                assets.approve(asset, csirt, settings=settings)
            audit.record_cli(session, "asset.create", f"{org.slug}/{kind}/{value}", "serve --demo")


def start_delivery(settings: Settings, folder: Path) -> tuple[Settings, BackgroundScheduler, WebhookLog]:
    """Deliver the demo's alerts where a newcomer can read them: mail as ``.eml`` files in ``folder/mail``
    (unless EXCHANGE_SMTP_URL is set), webhooks to a local endpoint that logs them to
    ``folder/webhooks.jsonl``; the scheduler runs in this process, so no second command is needed."""
    secret = subscriptions.new_secret()
    sink = WebhookLog(folder / "webhooks.jsonl", secret)
    sink.start()
    update: dict[str, object] = {"webhook_allowed_hosts": [*settings.webhook_allowed_hosts, "127.0.0.1"]}
    if "smtp_url" not in settings.model_fields_set:
        update["smtp_url"] = (folder / "mail").resolve().as_uri()
    settings = settings.model_copy(update=update)
    with transaction(session_factory(settings)) as session:
        bakery, dental = (orgs.get_by_slug(session, orgs.slugify(name)) for name in DEMO_SMES)
        for org, channel, address, key in ((bakery, Channel.email, "it@bakery-example.test", None),
                                           (dental, Channel.webhook, sink.url, secret)):
            for old in subscriptions.get_all(session, org):  # the last run's webhook port is gone
                subscriptions.delete(session, old)
            session.flush()
            subscriptions.create(session, org, channel=channel, address=address, secret=key, settings=settings)
    jobs = scheduler.build(settings, scheduler=BackgroundScheduler(timezone="UTC"))
    jobs.start()
    console.print(f"alert mail for {DEMO_SMES[0]}: [bold]{folder / 'mail'}[/bold] (one .eml file each)"
                  if "smtp_url" in update else f"alert mail for {DEMO_SMES[0]}: {settings.smtp_url}",
                  highlight=False, soft_wrap=True)
    console.print(f"signed webhooks for {DEMO_SMES[1]}: [bold]{sink.path}[/bold] (one JSON line each)",
                  highlight=False, soft_wrap=True)
    return settings, jobs, sink
