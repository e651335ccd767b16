"""``serve --demo``: demo organisations with fresh keys, and demo indicators, loaded idempotently."""

from __future__ import annotations

from exchange.cli.common import console, session_factory
from exchange.db import transaction
from exchange.demo import DEMO_ORGS, demo_bundle
from exchange.errors import NotFound
from exchange.orgs import audit
from exchange.orgs import service as orgs
from exchange.orgs.models import Role
from exchange.settings import Settings
from exchange.stix.bulk import ingest_stream


def load_demo(settings: Settings) -> None:
    """Create (or re-key) the demo organisations and load the demo bundle as the demo CSIRT.

    Keys exist only as hashes, so a second ``serve --demo`` rotates them to be able to print them.
    """
    sessions = session_factory(settings)
    issued: list[orgs.IssuedKey] = []
    with transaction(sessions) as session:
        for name, role in DEMO_ORGS:
            slug = orgs.slugify(name)
            try:
                orgs.get_by_slug(session, slug)
                issued.append(orgs.rotate_key(session, slug=slug))
                audit.record_cli(session, "key.rotate", f"{slug}/*", "serve --demo")
            except NotFound:
                issued.append(orgs.create(session, name=name, role=Role(role)))
                audit.record_cli(session, "org.create", slug, f"role {role}, serve --demo")
    csirt = next(i.org.slug for i in issued if i.org.role == Role.csirt)
    totals = ingest_stream(sessions, [demo_bundle()["objects"]], org_slug=csirt)
    console.print("[bold]Demo organisations[/bold] (HTTP Basic user = slug, password = key; or Bearer key):")
    for i in issued:  # whole lines, never wrapped or cut: people copy these keys
        console.print(f"  {i.org.name} ({i.org.role.value})\n    slug: {i.org.slug}\n    key:  {i.api_key}",
                      soft_wrap=True, highlight=False)
    console.print(f"demo data: {totals.added} objects added, {totals.duplicates} already there, "
                  f"{totals.rejected} rejected")
    console.print("try: curl -H 'Authorization: Bearer <key>' "
                  f"'http://{settings.host}:{settings.port}/api/v1/observables?value=login.bakery-example.test'",
                  soft_wrap=True)
