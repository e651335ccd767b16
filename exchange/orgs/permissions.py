"""Who may manage which organisation and hand out which key: one copy of the rules, for the REST API and the
web pages alike (a person in a browser is a ``Principal`` with their role's scopes, as their own key would be).

Another organisation's slug is a 404 for non-admins, so slugs cannot be probed; no key escapes its issuer.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from exchange.core.errors import Forbidden, NotFound
from exchange.orgs import service, users
from exchange.orgs.models import Org, Scope, User
from exchange.orgs.service import IssuedKey, Principal


def require_hub_admin(caller: Principal) -> None:
    """Manages the hub (organisations, the audit log, feeds): an admin organisation's key or person with the
    ``admin`` scope."""
    caller.require(Scope.admin)
    if not caller.org.is_hub_admin:
        raise Forbidden("only an admin organisation may do this")


def managed(session: Session, caller: Principal, slug: str) -> Org:
    """The organisation ``slug``, if the caller may manage it: itself, or any for hub admins."""
    if not caller.org.is_hub_admin and caller.org.slug != slug:
        raise NotFound(f"no organisation with slug {slug!r}")
    return service.get_by_slug(session, slug)


def may_hand_out(caller: Principal, scopes: frozenset[Scope], holder: User | None) -> None:
    """Never more scopes than the issuing key, and a person's key only issues or rotates keys that person holds
    (an organisation key would outlive their demotion)."""
    if not scopes <= caller.scopes:
        raise Forbidden("a key cannot be issued with more scopes than the key issuing it")
    if caller.user is not None and not caller.org.is_hub_admin and (holder is None or holder.pk != caller.user.pk):
        raise Forbidden("a person's key only manages that person's own keys")


def issue(session: Session, caller: Principal, org: Org, *, scopes: frozenset[Scope], holder_email: str | None,
          expires_in_days: int | None, name: str) -> IssuedKey:
    """A key of ``org`` (which the caller manages) for ``holder_email``'s user, or an organisation key. A
    person's keys inside their own organisation stay theirs: demoting or disabling them reaches these too."""
    holder = users.get(session, org, holder_email) if holder_email else None
    if caller.user is not None and caller.org.pk == org.pk:
        holder = holder or caller.user
    may_hand_out(caller, scopes, holder)
    return service.issue_key(session, org, user=holder, scopes=scopes, expires_in_days=expires_in_days, name=name)


def key_detail(session: Session, issued: IssuedKey) -> str:
    """What the audit log says about a new key: its scopes and, for a person's key, whose it is."""
    holder = session.get(User, issued.key.user_pk) if issued.key.user_pk is not None else None
    return f"scopes {issued.key.scopes}" + (f", for {holder.email}" if holder else "")
