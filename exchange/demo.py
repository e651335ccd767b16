"""Realistic demo STIX 2.1 data, generated in code so the demo needs no files and no network.

`exchange serve --demo`, the benchmarks and the tests all need a feed that looks like what a national
CSIRT publishes: phishing domains, C2 addresses, malware hashes, a few well-known CVEs, a report that
ties them together. Generating it from a seeded RNG keeps it deterministic (same seed, same bytes),
so demo output and benchmark numbers are reproducible.

Safety: no real infrastructure is named as malicious. IP addresses come from documentation and
benchmark ranges (RFC 5737, RFC 2544, RFC 3849), domains carry a random token so they are unlikely
to exist, and hashes are random. Only the CVE ids are real, because they are public and well known.
A few indicators deliberately touch the demo SMEs' assets so the alert matcher has something to find;
they are TLP:AMBER findings about a victim, so they name that SME as recipient (``x_exchange_recipients``)
and the SME's own key reads them, as it would in production.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from stix2.v21 import TLP_AMBER, TLP_GREEN, TLP_WHITE

from exchange.stix.hub_rules import RECIPIENTS_PROPERTY

DEMO_SME_DOMAINS = ("bakery-example.test", "dental-practice.test")
DEMO_SME_NETWORK = "198.51.100.0/24"  # the bakery's
DEMO_ORGS: tuple[tuple[str, str], ...] = (
    ("Demo National CSIRT", "csirt"),
    ("Demo Finance ISAC", "isac"),
    ("Example Bakery", "sme"),
    ("Example Dental Practice", "sme"),
)
DEMO_SMES = ("Example Bakery", "Example Dental Practice")  # the owners of DEMO_SME_DOMAINS, in that order
DEMO_FIREWALL = "cpe:2.3:o:paloaltonetworks:pan-os:10.2.5"  # the bakery's firewall: CVE-2024-3400 applies
# What each demo SME registered (asset kind value, value); the demo CSIRT vouches for them, so the
# indicators above alert at once (``exchange.cli.demo.load_demo``).
DEMO_ASSETS: dict[str, tuple[tuple[str, str], ...]] = {
    DEMO_SMES[0]: (("domain", DEMO_SME_DOMAINS[0]), ("cidr", DEMO_SME_NETWORK), ("software", DEMO_FIREWALL)),
    DEMO_SMES[1]: (("domain", DEMO_SME_DOMAINS[1]),),
}
DEMO_CONTACT = "cert@csirt-demo.test, +33 1 00 00 00 00 (24/7)"
# The steps the demo CSIRT gives for the bakery's hijacked subdomain (a course-of-action that mitigates it).
DEMO_STEPS = (
    "Delete the DNS record of the login subdomain, or point it back to a server you control.",
    "Check the other records of your domain at your DNS provider for names you do not know.",
    "Change the password of your DNS provider account and turn on two-step sign-in.",
    "Tell your staff and customers not to enter passwords on that page.",
)

_BASE_TIME = datetime(2026, 11, 1, tzinfo=UTC)
_MARKINGS = (TLP_WHITE, TLP_GREEN, TLP_AMBER)  # TLP 1.0: WHITE is what TLP 2.0 calls CLEAR
_KILL_CHAIN = "lockheed-martin-cyber-kill-chain"

# (family name, malware_types, plain-language description)
_MALWARE = (
    ("Emotet-like loader", ["dropper", "trojan"], "Comes as an e-mail attachment and loads more malware."),
    (
        "QakBot-like banking trojan",
        ["trojan", "spyware"],
        "Steals banking logins and hijacks e-mail threads.",
    ),
    ("AgentTesla-like infostealer", ["spyware", "keylogger"], "Records keystrokes and saved passwords."),
    ("LockBit-like ransomware", ["ransomware"], "Steals data, then encrypts every reachable computer."),
    ("Cobalt Strike-like beacon", ["remote-access-trojan", "backdoor"], "Gives an intruder remote control."),
)
# Well-known, real CVEs only: (id, plain-language description)
_CVES = (
    ("CVE-2024-3400", "Palo Alto GlobalProtect gateways can be taken over without a password."),
    ("CVE-2023-4966", "Citrix NetScaler leaks session tokens ('Citrix Bleed'), so attackers skip login."),
    ("CVE-2021-44228", "Log4j ('Log4Shell') lets attackers run code on many Java applications."),
    ("CVE-2023-34362", "MOVEit Transfer file-sharing servers can be broken into and their files stolen."),
    ("CVE-2024-21762", "FortiOS SSL VPN lets attackers run code on the firewall without logging in."),
    ("CVE-2023-23397", "Outlook leaks the user's password hash when a crafted meeting invite arrives."),
)
_LURES = {
    "bank": ("a bank's online-banking login", "asks for account number, PIN and one-time codes"),
    "parcel": ("a parcel delivery service", "asks for card details to pay a small 'customs fee'"),
    "m365": ("the Microsoft 365 login page", "steals e-mail passwords and session cookies"),
}
_WORDS = {
    "bank": ("secure-banking", "online-bank", "bank-verify", "netbanking-login", "account-security"),
    "parcel": ("parcel-delivery", "post-tracking", "paket-zustellung", "shipment-status", "redelivery"),
    "m365": ("m365-login", "office365-verify", "microsoftonline-auth", "outlook-webaccess", "sharepoint-doc"),
}
_TLDS = ("com", "net", "top", "xyz", "info", "online", "site", "shop")
_PATHS = ("/login.php", "/wp-includes/invoice.zip", "/track/index.html", "/secure/verify", "/doc/view.php")
# kind -> weight; the mix a national CSIRT feed typically shows
_KINDS = {"phish": 30, "ipv4": 18, "ipv6": 4, "url": 16, "sha256": 14, "md5": 6, "email": 9, "compound": 3}


def _ts(moment: datetime) -> str:
    """STIX timestamp with exactly millisecond precision, the form every STIX tool accepts."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _Gen:
    """Holds the RNG and a clock so every id, value and timestamp comes from one seeded stream."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not security
        self.now = _BASE_TIME
        self.seen: set[str] = set()

    def sid(self, stix_type: str) -> str:
        return f"{stix_type}--{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"

    def tick(self) -> str:
        self.now += timedelta(minutes=self.rng.randint(1, 30))
        return _ts(self.now)

    def unique(self, make: Callable[[], str]) -> str:
        """A value never produced before, so no two indicators carry the same observable."""
        while (value := make()) in self.seen:
            pass
        self.seen.add(value)
        return value

    def token(self, size: int = 4) -> str:
        return "".join(self.rng.choices("abcdefghjkmnpqrstuvwxyz23456789", k=size))

    def domain(self, lure: str) -> str:
        word = self.rng.choice(_WORDS[lure])
        return self.unique(lambda: f"{word}-{self.token()}.{self.rng.choice(_TLDS)}")

    def ipv4(self) -> str:
        # TEST-NET-1/3 and the benchmark range; never the demo SME network 198.51.100.0/24.
        def make() -> str:
            pick = self.rng.randrange(3)
            if pick == 0:
                return f"192.0.2.{self.rng.randint(1, 254)}"
            if pick == 1:
                return f"203.0.113.{self.rng.randint(1, 254)}"
            return f"198.{self.rng.randint(18, 19)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"

        return self.unique(make)

    def ipv6(self) -> str:
        # 2001:db8::/32 is reserved for documentation (RFC 3849).
        return self.unique(lambda: f"2001:db8:{self.rng.getrandbits(16):x}::{self.rng.getrandbits(16):x}")

    def hexdigest(self, bits: int) -> str:
        return self.unique(lambda: f"{self.rng.getrandbits(bits):0{bits // 4}x}")


def _header(g: _Gen, stix_type: str, author: str | None, marking: str = TLP_GREEN.id) -> dict[str, Any]:
    """The properties every demo object shares, built fresh per object so no two objects share a list."""
    created = g.tick()
    header: dict[str, Any] = {
        "type": stix_type,
        "spec_version": "2.1",
        "id": g.sid(stix_type),
        "created": created,
        "modified": created,
    }
    if author is not None:
        header["created_by_ref"] = author
    header["object_marking_refs"] = [marking]
    return header


def _indicator(g: _Gen, author: str, kind: str) -> tuple[dict[str, Any], str | None]:
    """One indicator of the given kind and the malware family it points to (None when it points to none)."""
    lure = g.rng.choice(list(_LURES))
    imitated, harm = _LURES[lure]
    family: str | None = None
    phase = "delivery"
    types = ["malicious-activity"]
    if kind == "phish":
        value = g.domain(lure)
        pattern = f"[domain-name:value = '{value}']"
        name = f"Phishing site imitating {imitated}"
        desc = f"{value} copies {imitated} and {harm}. Block it and warn staff not to sign in there."
    elif kind in ("ipv4", "ipv6"):
        value = g.ipv4() if kind == "ipv4" else g.ipv6()
        family, phase = g.rng.choice(_MALWARE)[0], "command-and-control"
        pattern = f"[{kind}-addr:value = '{value}']"
        name = f"Command-and-control server of {family}"
        desc = (
            f"Infected computers contact {value} for instructions. Any connection to it from your "
            "network means a device is probably infected: isolate it and check it."
        )
    elif kind == "url":
        value = g.unique(lambda: f"https://{g.domain(lure)}{g.rng.choice(_PATHS)}")
        family = g.rng.choice(_MALWARE[:3])[0]
        pattern = f"[url:value = '{value}']"
        name = f"Malicious link delivering {family}"
        desc = f"Links to {value} arrive in e-mails and download {family}. Block the address in your proxy."
    elif kind in ("sha256", "md5"):
        value = g.hexdigest(256 if kind == "sha256" else 128)
        family, phase = g.rng.choice(_MALWARE)[0], "installation"
        algo = "SHA-256" if kind == "sha256" else "MD5"
        pattern = f"[file:hashes.'{algo}' = '{value}']"
        name = f"File of {family}"
        desc = f"A file with this {algo} fingerprint is {family}. Delete it and scan the computer."
    elif kind == "email":
        value = g.unique(lambda: f"{g.rng.choice(('noreply', 'service', 'support', 'billing'))}@{g.domain(lure)}")
        pattern = f"[email-addr:value = '{value}']"
        name = f"Phishing e-mails imitating {imitated}"
        desc = f"E-mails from {value} pretend to come from {imitated} and lead to a page that {harm}."
    else:
        first, second = g.domain(lure), g.domain(lure)
        pattern = f"[domain-name:value = '{first}' OR domain-name:value = '{second}']"
        name = f"Phishing campaign imitating {imitated}"
        desc = f"Two sites of one campaign, {first} and {second}, copy {imitated}. Block both."
    marking = g.rng.choices(_MARKINGS, weights=(15, 78, 7))[0].id
    indicator = _header(g, "indicator", author, marking)
    indicator.update(name=name, description=desc, indicator_types=types, pattern=pattern)
    indicator.update(pattern_type="stix", pattern_version="2.1", valid_from=indicator["created"])
    indicator["confidence"] = g.rng.randint(30, 100)
    if g.rng.random() < 0.4:
        indicator["kill_chain_phases"] = [{"kill_chain_name": _KILL_CHAIN, "phase_name": phase}]
    return indicator, family


def _sme_indicators(g: _Gen, author: str, recipients: tuple[str, str] | None) -> list[dict[str, Any]]:
    """Indicators that touch the demo SMEs, so the alert matcher and the demo have real hits; each
    names the SME it is about (``recipients``: the bakery's and the dental practice's identity ids)."""
    bakery, dental = DEMO_SME_DOMAINS
    cases = (
        (  # the bakery's
            f"[domain-name:value = 'login.{bakery}']",
            "Phishing page on a hijacked subdomain",
            f"login.{bakery} now shows a fake Microsoft 365 login page; its DNS record was taken over.",
        ),
        (
            "[ipv4-addr:value = '198.51.100.23']",
            "Your network address is sending spam",
            "198.51.100.23 sent thousands of phishing e-mails yesterday. A device there is likely infected.",
        ),
        (  # the dental practice's
            f"[url:value = 'https://{dental}/wp-content/uploads/invoice.php']",
            "Malware hosted on your website",
            f"The website {dental} serves a fake invoice that installs malware; the site was broken into.",
        ),
        (
            f"[domain-name:value = 'dental-practlce-{g.token()}.com' OR domain-name:value = 'mail.{dental}']",
            "Look-alike domain targeting your patients",
            f"A look-alike of {dental} and your mail server appear together in a phishing kit.",
        ),
    )
    out = []
    for i, (pattern, name, desc) in enumerate(cases):
        indicator = _header(g, "indicator", author, TLP_AMBER.id)
        if recipients is not None:
            indicator[RECIPIENTS_PROPERTY] = [recipients[i // 2]]
        indicator.update(
            name=name,
            description=desc,
            indicator_types=["compromised"],
            pattern=pattern,
            pattern_type="stix",
            pattern_version="2.1",
            valid_from=indicator["created"],
            confidence=85,
        )
        out.append(indicator)
    return out


def demo_bundle(seed: int = 2026, indicators: int = 300, recipients: tuple[str, str] | None = None) -> dict[str, Any]:
    """A STIX 2.1 bundle of `indicators` indicators plus the identity, markings, malware,
    vulnerabilities, relationships and report a CSIRT demo shows; same seed (and recipients), same
    bytes. ``recipients``: the identity ids of the two demo SMEs (``DEMO_SMES`` order), named on the
    findings about them; without them nobody but the producer reads those AMBER findings."""
    g = _Gen(seed)
    sme_count = 4
    if indicators < sme_count:
        raise ValueError(f"indicators must be at least {sme_count}: the SME-touching ones always ship")
    markings = [json.loads(m.serialize()) for m in _MARKINGS]
    identity = {
        **_header(g, "identity", None, TLP_WHITE.id),
        "name": "Demo National CSIRT",
        "identity_class": "organization",
        "sectors": ["government-national"],
        "contact_information": DEMO_CONTACT,
    }
    author = identity["id"]
    malware = {
        name: {
            **_header(g, "malware", author),
            "name": name,
            "description": desc,
            "malware_types": list(types),
            "is_family": True,
        }
        for name, types, desc in _MALWARE
    }
    vulns = [
        {
            **_header(g, "vulnerability", author),
            "name": cve,
            "description": desc,
            "external_references": [{"source_name": "cve", "external_id": cve}],
        }
        for cve, desc in _CVES
    ]
    # What alert matching reads of a vulnerability (docs/decisions/0011-alerts.md): the bakery's firewall.
    vulns[0].update(x_exchange_affected=[{"cpe": "cpe:2.3:o:paloaltonetworks:pan-os:*",
                                          "versions": "vers:generic/>=10.2|<10.2.9"}], x_exchange_exploited=True)
    inds = _sme_indicators(g, author, recipients)
    links: list[tuple[str, str, str]] = []  # (source, relationship_type, target)
    kinds, weights = list(_KINDS), list(_KINDS.values())
    for _ in range(indicators - sme_count):
        ind, family = _indicator(g, author, g.rng.choices(kinds, weights=weights)[0])
        inds.append(ind)
        if family is not None:
            links.append((ind["id"], "indicates", malware[family]["id"]))
    links.extend((m["id"], "targets", g.rng.choice(vulns)["id"]) for m in malware.values())
    action = {
        **_header(g, "course-of-action", author, TLP_AMBER.id),
        "name": "Take back the hijacked subdomain",
        "description": "\n".join(f"{n}. {step}" for n, step in enumerate(DEMO_STEPS, 1)),
    }
    if recipients is not None:
        action[RECIPIENTS_PROPERTY] = [recipients[0]]
    links.append((action["id"], "mitigates", inds[0]["id"]))
    rels = [
        {**_header(g, "relationship", author), "relationship_type": rel, "source_ref": src, "target_ref": dst}
        for src, rel, dst in links
    ]
    rels[-1]["object_marking_refs"] = [TLP_AMBER.id]  # it names the bakery's finding: as private as the finding
    if recipients is not None:
        rels[-1][RECIPIENTS_PROPERTY] = [recipients[0]]
    report = {
        **_header(g, "report", author),
        "name": "Weekly threat summary for businesses",
        "description": "Phishing against bank and parcel customers, active loaders and the "
        "vulnerabilities they exploit. Check the linked indicators against your own systems.",
        "report_types": ["threat-report"],
        "object_refs": [
            *(m["id"] for m in malware.values()),
            *(v["id"] for v in vulns),
            *(i["id"] for i in inds[:25]),
        ],
    }
    report["published"] = report["created"]
    objects = [*markings, identity, *malware.values(), *vulns, *inds, action, *rels, report]
    return {"type": "bundle", "id": g.sid("bundle"), "objects": objects}
