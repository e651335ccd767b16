"""Write an advisory without writing STIX: the form, the reach preview, and publishing.

One form, posted with one of two buttons. "Check who it reaches" validates it (problems are shown beside
their fields, the form kept as typed) and shows the reach computed by ``advisory_service.preview``; only
that answer carries the "Publish" button, with a digest of what was previewed, so a form changed after its
preview is previewed again instead of published. Publishing is the normal ingest; the alerts follow from
the matching job. Producers only (csirt, isac, admin), and people whose role may write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from exchange.assets.sectors import NACE_SECTIONS
from exchange.core.deps import SessionDep
from exchange.core.errors import Forbidden
from exchange.orgs import audit
from exchange.orgs.models import Scope
from exchange.store import reads
from exchange.web import advisory_form, advisory_service
from exchange.web.dashboard import producer
from exchange.web.deps import CsrfChecked, see_other
from exchange.web.render import page
from exchange.web.sessions import SignedIn

router = APIRouter()
Short = Annotated[str, Form(max_length=300)]
Long = Annotated[str, Form(max_length=20_000)]
FIELDS = ("title", "summary", "steps", "vendor", "product", "versions", "targets", "severity", "tlp", "collection")


async def author(me: Annotated[SignedIn, Depends(producer)]) -> SignedIn:
    if Scope.write not in me.user.role.scopes:
        raise Forbidden("your role may read but not publish")
    return me


Author = Annotated[SignedIn, Depends(author)]


def _form(request: Request, session: SessionDep, me: SignedIn, values: dict[str, Any], *,
          problems: Sequence[advisory_form.Problem] = (), reach: advisory_service.Reach | None = None,
          digest: str = "", changed: bool = False, status: int = 200) -> Response:
    by_field: dict[str, list[advisory_form.Problem]] = {}
    for p in problems:
        by_field.setdefault(p.field, []).append(p)
    return page(request, "advisory.html", {
        "values": values, "problems": by_field, "reach": reach, "digest": digest, "changed": changed,
        "sectors": NACE_SECTIONS, "severities": advisory_form.SEVERITIES, "tlps": advisory_form.TLP_MEANINGS,
        "collections": advisory_service.writable(session, me.org)}, status=status)


@router.get("/advisories/new")
def new(request: Request, session: SessionDep, me: Author) -> Response:
    return _form(request, session, me, {**dict.fromkeys(FIELDS, ""), "severity": "confirmed", "tlp": "green",
                                        "sectors": []})


@router.post("/advisories/new", dependencies=[CsrfChecked])
def submit(request: Request, session: SessionDep, me: Author, title: Short = "", summary: Long = "",
           steps: Long = "", sectors: Annotated[list[str], Form(max_length=30)] = [],  # noqa: B006 - FastAPI copies it
           vendor: Short = "", product: Short = "", versions: Short = "", targets: Long = "",
           severity: Short = "", tlp: Short = "", collection: Short = "", reviewed: Short = "",
           action: Annotated[Literal["preview", "publish"], Form()] = "preview") -> Response:
    values = {"title": title, "summary": summary, "steps": steps, "sectors": sectors, "vendor": vendor,
              "product": product, "versions": versions, "targets": targets, "severity": severity, "tlp": tlp,
              "collection": collection}
    advisory, problems = advisory_form.read(values)
    if advisory is None:
        return _form(request, session, me, values, problems=problems, status=422)
    target = advisory_service.collection(session, me.org, collection or reads.DEFAULT_COLLECTION_ID)
    objects = advisory_form.objects(advisory, me.org.identity_id)
    digest = f"{advisory.digest()}:{target.id}"
    if action == "preview" or reviewed != digest:
        reach = advisory_service.preview(session, me.org, objects, target)
        return _form(request, session, me, values, reach=reach, digest=digest, changed=action == "publish")
    result = advisory_service.publish(session, me.org, objects, target)
    audit.record_person(session, request, me.org, me.user, "advisory.publish", objects[0]["id"],
                        f"{advisory.title[:100]}: {result.summary} (web)")
    return see_other(request, "/advisories?published=true")
