"""``serve --demo``: demo organisations with fresh keys, and demo indicators, loaded idempotently."""

from __future__ import annotations

from exchange.cli.common import console, session_factory
from exchange.core.db import transaction
from exchange.core.errors import NotFound
from exchange.core.settings import Settings
from exchange.demo import DEMO_ORGS, DEMO_SMES, demo_bundle
from exchange.orgs import audit
from exchange.orgs import service as orgs
from exchange.orgs.models import Role
from exchange.store.bulk import ingest_stream

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
    return issued
