"""Seeded STIX 2.1 patterns for the differential test: valid compound ones made from the shapes
feeds write (issue 16), and invalid ones made from those by one mutation each."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable

Literal = Callable[[random.Random], str]


def _string(rng: random.Random) -> str:
    text = rng.choice(("evil.example", "O'Brien", "naïve café", "日本語", "C:\\Windows\\x.exe", "a''b", "",
                       "%PDF-1.7", "tab\there", "line\nbreak", "∀x ∈ ℝ", "emoji 🦀", "quote \\' inside"))
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ipv4(rng: random.Random) -> str:
    return f"'{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}'"


def _cidr(rng: random.Random) -> str:
    return f"'{rng.randrange(1, 224)}.{rng.randrange(256)}.0.0/{rng.choice((8, 16, 24))}'"


def _domain(rng: random.Random) -> str:
    return f"'{rng.choice(('evil', 'c2', 'x-y', 'mail'))}{rng.randrange(1000)}.{rng.choice(('com', 'ru', 'example'))}'"


def _int(rng: random.Random) -> str:
    return rng.choice(("0", "443", "+8080", "-1", "1048576", str(rng.randrange(10**9))))


def _float(rng: random.Random) -> str:
    return rng.choice(("0.5", "7.25", ".5", "+1.0", "-2.75", "123456.789"))


def _timestamp(rng: random.Random) -> str:
    fraction = rng.choice(("", ".1", ".123", ".123456"))
    return f"t'20{rng.randrange(10, 30)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T" \
           f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}{fraction}Z'"


def _hex(rng: random.Random) -> str:
    return f"h'{rng.getrandbits(8 * rng.randrange(0, 9)):0{2 * rng.randrange(0, 9)}x}'"[:2] + \
        "".join(rng.choice("0123456789abcdefABCDEF") for _ in range(2 * rng.randrange(0, 9))) + "'"


def _binary(rng: random.Random) -> str:
    return f"b'{base64.b64encode(rng.randbytes(rng.randrange(1, 13))).decode()}'"


def _bool(rng: random.Random) -> str:
    return rng.choice(("true", "false"))


def _hash(chars: int) -> Literal:
    return lambda rng: f"'{rng.getrandbits(4 * chars):0{chars}x}'"


_ANY: tuple[Literal, ...] = (_string, _int, _float, _timestamp, _hex, _binary, _bool)
_ORDERABLE: tuple[Literal, ...] = (_string, _int, _float, _timestamp, _hex, _binary)

# (object type, path, the literal its values take): paths with references, list indexes and quoted keys.
PATHS: tuple[tuple[str, str, Literal], ...] = (
    ("ipv4-addr", "value", _ipv4), ("ipv6-addr", "value", lambda r: "'2001:db8::1'"),
    ("domain-name", "value", _domain), ("url", "value", lambda r: "'http://evil.example/a?b=c&d=%20'"),
    ("email-addr", "value", lambda r: "'a.b@evil.example'"), ("file", "name", _string),
    ("file", "hashes.'SHA-256'", _hash(64)), ("file", "hashes.MD5", _hash(32)), ("file", "hashes.'SHA-1'", _hash(40)),
    ("file", "size", _int), ("file", "created", _timestamp), ("file", "magic_number_hex", _hex),
    ("artifact", "payload_bin", _binary), ("network-traffic", "dst_ref.value", _ipv4),
    ("network-traffic", "dst_ref.type", lambda r: "'ipv4-addr'"), ("network-traffic", "dst_port", _int),
    ("network-traffic", "protocols[*]", lambda r: "'tcp'"), ("network-traffic", "protocols[0]", lambda r: "'ipv4'"),
    ("email-message", "from_ref.value", lambda r: "'ceo@evil.example'"), ("email-message", "subject", _string),
    ("email-message", "to_refs[*].value", lambda r: "'x@y.example'"), ("user-account", "is_admin", _bool),
    ("file", "extensions.'windows-pebinary-ext'.sections[*].entropy", _float),
    ("windows-registry-key", "values[2].'data'", _string), ("x-acme-sensor", "'key with spaces'.x_y", _string),
    ("process", "command_line", _string), ("mac-addr", "value", lambda r: "'00:00:5e:00:53:af'"),
)


class Patterns:
    """``valid()`` and ``invalid()`` patterns from one seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def _space(self) -> str:
        return self.rng.choices((" ", "  ", "\n", "\t", " /* note */ ", " // line\n"), (60, 2, 1, 1, 1, 1))[0]

    def comparison(self) -> str:
        rng = self.rng
        otype, path, literal = rng.choice(PATHS)
        hashes = "hashes" in path
        op = "=" if hashes else rng.choice(("=", "=", "=", "!=", "==", "<>", "<", ">=", "IN", "LIKE", "MATCHES",
                                            "ISSUBSET", "ISSUPERSET", "EXISTS"))
        target = f"{otype}:{path}"
        if op == "EXISTS":
            return f"EXISTS {target}"
        negated = "NOT " if rng.random() < 0.1 else ""
        if op in ("=", "!=", "==", "<>"):
            value = literal(rng) if hashes or rng.random() < 0.8 else rng.choice(_ANY)(rng)
        elif op in ("<", ">="):
            value = rng.choice(_ORDERABLE)(rng)
        elif op == "IN":
            value = "(" + ", ".join(rng.choice(_ANY)(rng) for _ in range(rng.randrange(0, 5))) + ")"
        elif op in ("ISSUBSET", "ISSUPERSET"):
            value = _cidr(rng)
        else:
            value = rng.choice(("'%.evil.example'", "'^https?://[a-z]+\\\\.example/'", "'a_b%'", "'(a+)+$'"))
        return f"{target}{self._space()}{negated}{op}{self._space()}{value}"

    def comparisons(self, depth: int = 0) -> str:
        rng = self.rng
        terms = []
        for _ in range(rng.choice((1, 1, 2, 2, 3)) if depth == 0 else 1):
            term = self.comparisons(depth + 1) if depth < 2 and rng.random() < 0.06 else self.comparison()
            terms.append(f"({term})" if rng.random() < 0.15 else term)
        return f"{self._space()}{rng.choice(('AND', 'OR'))}{self._space()}".join(terms)

    def qualifiers(self, bracketed: bool) -> str:
        rng = self.rng
        kinds = rng.sample(("WITHIN", "REPEATS", "START"), rng.choice((0, 0, 0, 0, 1, 1, 2)))
        if not bracketed and rng.random() < 0.2:
            kinds += kinds  # repeating a qualifier is allowed on a parenthesised expression
        text = []
        for kind in kinds:
            if kind == "WITHIN":
                text.append(f"WITHIN {rng.choice(('600', '1', '0.5', '+30'))} SECONDS")
            elif kind == "REPEATS":
                text.append(f"REPEATS {rng.randrange(1, 10)} TIMES")
            else:
                text.append(f"START {_timestamp(rng)} STOP {_timestamp(rng)}")
        return "".join(" " + q for q in text)

    def observations(self, depth: int = 0) -> str:
        rng = self.rng
        terms = []
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3)) if depth == 0 else rng.choice((1, 2))):
            if depth < 2 and rng.random() < 0.08:
                terms.append(f"({self.observations(depth + 1)}){self.qualifiers(False)}")
            else:
                terms.append(f"[{self.comparisons()}]{self.qualifiers(True)}")
        return f"{self._space()}{rng.choice(('AND', 'OR', 'FOLLOWEDBY'))}{self._space()}".join(terms)

    def valid(self) -> str:
        """A compound pattern: two comparisons or more, or a qualifier."""
        while True:
            text = self.observations()
            if " AND " in text or " OR " in text or "FOLLOWEDBY" in text or " TIMES" in text or "SECONDS" in text \
                    or " STOP " in text:
                return text

    def invalid(self) -> str:
        """A valid pattern broken by one mutation (the oracle decides whether it really broke)."""
        text = self.valid()
        return self.rng.choice(_MUTATIONS)(self.rng, text)


def _drop_one(chars: str) -> Callable[[random.Random, str], str]:
    def mutate(rng: random.Random, text: str) -> str:
        places = [i for i, c in enumerate(text) if c in chars]
        if not places:
            return text + "]"
        i = rng.choice(places)
        return text[:i] + text[i + 1:]
    return mutate


def _replace(old: str, choices: tuple[str, ...]) -> Callable[[random.Random, str], str]:
    def mutate(rng: random.Random, text: str) -> str:
        if old not in text:
            return text + " " + rng.choice(choices)
        head, _, tail = text.rpartition(old)
        return head + rng.choice(choices) + tail
    return mutate


def _append(choices: tuple[str, ...]) -> Callable[[random.Random, str], str]:
    return lambda rng, text: text + rng.choice(choices)


def _insert_comparison(choices: tuple[str, ...]) -> Callable[[random.Random, str], str]:
    def mutate(rng: random.Random, text: str) -> str:
        i = text.index("[") + 1
        return text[:i] + rng.choice(choices) + " AND " + text[i:]
    return mutate


_MUTATIONS: tuple[Callable[[random.Random, str], str], ...] = (
    _drop_one("[]"),  # dropped bracket
    _drop_one("()") ,
    _drop_one("'"),  # unbalanced quote
    _append((" WITHIN -5 SECONDS", " WITHIN SECONDS", " WITHIN 5", " WITHIN 5 MINUTES", " REPEATS 1.5 TIMES",
             " REPEATS -2 TIMES", " REPEATS TIMES", " START t'2020-01-01T00:00:00Z'", " STOP t'2020-01-01T00:00:00Z'",
             " WITHIN 5 SECONDS WITHIN 6 SECONDS", " START '2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:00Z'")),
    _insert_comparison(("file:created = t'2020-13-01T00:00:00Z'", "file:created = t'2020-01-01T24:00:00Z'",
                        "file:created = t'2020-01-01T00:00:00'", "file:created > t'2020-1-1T00:00:00Z'",
                        "file:created = t'2020-01-32T00:00:00Z'")),  # bad timestamps
    _insert_comparison(("artifact:payload_bin = b'abc'", "artifact:payload_bin = b'a=bc'", "artifact:payload_bin = b''",
                        "artifact:payload_bin = b'QQ='", "artifact:payload_bin = b'Q$=='")),  # bad base64
    _insert_comparison(("file:magic_number_hex = h'abc'", "file:magic_number_hex = h'zz'",
                        "file:magic_number_hex = h'0'")),  # odd or non-hex
    _replace(" = ", (" =~ ", " CONTAINS ", " === ", " IS ", " := ", " ~ ", " like ")),  # unknown operators
    _append((" AND", " OR", " FOLLOWEDBY", " AND [", " NOT")),  # trailing operators
    _insert_comparison(("file:hashes.MD5 = 'abc'", "file:hashes.'SHA-256' = 'xyz'", "file:hashes[0] = 'a'",
                        "file:hashes.MD5 IN ('d41d8cd98f00b204e9800998ecf8427e')")),  # the oracle's hash rule
    _insert_comparison(("a:b[-1] = 1", "a:b-c = 1", "a:true = 1", "A:B = TRUE", "a:b = 00", "a:b = 1.",
                        "NOT a:b = 1", "a:b ISSUBSET 1", "a:b < true", "a:b IN (1,)")),
    _replace("]", ("] WITHIN 1 SECONDS REPEATS 2 TIMES WITHIN 3 SECONDS]", "]]", "])")),
)
