"""An export is read a page per transaction and handed out after it: a reader that downloads slowly holds no
pooled connection between pages, so twenty exports at once cannot starve every other page and the ingester
of the pool (seen with 100,000 objects in benchmarks/web_pages.py: 30 s pool timeouts mid-download)."""

from __future__ import annotations

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from exchange.core import db
from exchange.orgs.models import Org, Role
from exchange.store import export, ingest, reads
from exchange.store.models import StixObject
from tests.factories import TLP2, indicator
from tests.orgs_factory import MakeOrg


def test_a_paused_export_holds_no_connection(database_url: str, sessions: sessionmaker[Session],
                                            make_org: MakeOrg) -> None:
    csirt = make_org(Role.csirt)
    with db.transaction(sessions) as s:
        ingest.ingest(s, [indicator(f"[domain-name:value = 'bad{n}.test']", markings=[TLP2["green"]])
                          for n in range(5)], collection=reads.get_collection(s), org=s.get_one(Org, csirt.org.pk))
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=1)  # a pool of one
    one = db.make_sessionmaker(engine)
    with one() as s:
        reader = s.get_one(Org, csirt.org.pk)
    rows = export.pages(one, reader, page_size=2)
    first = next(rows)  # the download has started, and pauses within a page
    with one() as s:  # another request, on the only connection: waits 1 s at most, then fails
        assert s.scalar(select(func.count()).select_from(StixObject)) == 5
    assert len([first, *rows]) == 5
    engine.dispose()
