"""Demo web sign-ins for ``exchange serve --demo``: one person in the demo SME, CSIRT and ISAC each.

Passwords exist only as argon2 hashes, so each run sets a fresh random one on the demo users and
prints it, like the demo's API keys; users people made themselves are never touched.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from exchange.core.db import transaction
from exchange.orgs import audit, users
from exchange.orgs import service as orgs
from exchange.orgs.models import Org, Role, User, UserRole

# (organisation name in exchange.demo.DEMO_ORGS, demo user's e-mail)
DEMO_USERS = (("Example Bakery", "owner@bakery-example.test"),
              ("Demo National CSIRT", "analyst@csirt-demo.test"),
              ("Demo Finance ISAC", "analyst@isac-demo.test"))


@dataclass(frozen=True, slots=True)
class SignIn:
    role: Role
    organisation: str
    email: str
    password: str


def _ensure(session: Session, org: Org, email: str) -> SignIn:
    password = secrets.token_urlsafe(12)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        users.create(session, org, email=email, role=UserRole.owner, name="Demo", password=password)
        audit.record_cli(session, "user.add", f"{org.slug}/{email}", "serve --demo")
    else:
        users.set_password(user, password)
    return SignIn(org.role, org.name, email, password)


def demo_signins(sessions: sessionmaker[Session]) -> list[SignIn]:
    """Create (or reset) the demo users; their organisations must exist (``load_demo`` made them)."""
    with transaction(sessions) as session:
        return [_ensure(session, orgs.get_by_slug(session, orgs.slugify(name)), email) for name, email in DEMO_USERS]


def print_signins(sessions: sessionmaker[Session], base_url: str) -> list[SignIn]:
    from exchange.cli.common import console  # the CLI's console: same output stream as the keys

    signins = demo_signins(sessions)
    console.print(f"[bold]Demo web sign-ins[/bold] at {base_url.rstrip('/')}/signin:")
    for s in signins:  # whole lines: people copy these
        console.print(f"  {s.organisation} ({s.role.value})\n    e-mail:   {s.email}\n    password: {s.password}",
                      soft_wrap=True, highlight=False)
    return signins
