"""Look-alike domains: is a newly published name an imitation of a verified domain?

A permutation index (every ``dnstwist`` variant of every registered domain) would be exact but large:
``dnstwist`` makes about 1,000 to 8,000 variants of one name in 20-300 ms, so 20,000 domains are tens of
millions of rows and minutes to build (decision 0011). Instead both sides are reduced to keys that the
variants share with their original, and the published name is looked up by key:

- *skeleton*: the registrable label, Unicode folded to ASCII (``anyascii``) and common ASCII confusions
  folded (``rn`` -> ``m``, ``0`` -> ``o``, ``1`` -> ``l``...): catches homoglyphs and TLD swaps;
- *one edit*: a published name one edit from a registered one shares its first or its last half with it
  (``_half``), so both halves are indexed, and candidates are confirmed by an edit-distance check:
  catches omission, insertion, replacement, repetition, transposition, bit flips, vowel swaps, plurals,
  hyphenation and a dot put inside the name (the labels left of the suffix are joined);
- *added words*: a registered skeleton as a whole hyphen- or dot-separated part of the published name,
  or as its first or last letters (``bakery-login``, ``loginbakery``, ``bakery.example.evil.test``).

The test suite checks the keys against ``dnstwist``'s own fuzzer. Short names (under ``MIN_LENGTH``
letters) are left out: one edit away from a four-letter name is half the dictionary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Generic, NamedTuple, TypeVar

import tldextract
from anyascii import anyascii

MIN_LENGTH = 5  # letters of a registrable label for one-edit look-alikes
MIN_WORD = 6  # letters of a registrable label found inside a longer name
_PAIRS = (("rn", "m"), ("nr", "m"), ("vv", "w"), ("cl", "d"), ("lc", "k"), ("nn", "m"))
_SINGLE = str.maketrans({"0": "o", "1": "l", "i": "l", "3": "e", "c": "e", "5": "s", "$": "s", "@": "a", "_": "-"})
T = TypeVar("T")


@cache
def _suffixes() -> frozenset[str]:
    """The public suffixes of ``tldextract``'s bundled Public Suffix List (no network), private ones included:
    a look-alike at ``bakery.github.io`` is as dangerous as one at ``bakery.com``. Kept as a set: a look-up
    per label costs a microsecond, ``tldextract``'s own call fifty, and matching splits every new name."""
    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
    return frozenset(extractor.tlds)


def _suffix_start(labels: list[str]) -> int:
    """Index of the first label of the longest public suffix; ``len(labels) - 1`` (the last label) when the
    list knows none, as for ``.test``. Wildcard rules count; their rare exceptions do not."""
    known = _suffixes()
    rest = ".".join(labels[1:])
    for i in range(1, len(labels)):
        if rest in known:
            return i
        rest = rest.partition(".")[2]  # the labels from i + 1 on, without joining them again
        if rest and "*." + rest in known:
            return i
    return len(labels) - 1


class Name(NamedTuple):
    registrable: str  # "bakery.example"
    label: str  # skeleton of the registrable label: "bakery"
    joined: str  # skeleton of everything left of the suffix, dots removed: "shopbakery"
    words: tuple[str, ...]  # skeletons of the hyphen- and dot-separated parts left of the suffix, if long
    texts: tuple[str, ...]  # ``joined`` and ``words``, once each, longer than ``MIN_WORD``: searched inside


def skeleton(text: str) -> str:
    if "xn--" in text:
        try:
            text = text.encode("ascii").decode("idna")
        except UnicodeError:
            pass
    folded = anyascii(text).lower() if not text.isascii() else text.lower()
    for pair, single in _PAIRS:
        folded = folded.replace(pair, single)
    return folded.translate(_SINGLE)


@lru_cache(maxsize=2**16)
def split(host: str) -> Name | None:
    """The keys of ``host``: its registrable domain, and skeletons of what is left of the public suffix.
    Memoised: a feed names the same hosts again and again, and this is most of a look-up's cost."""
    labels = host.split(".")
    start = _suffix_start(labels)
    if start < 1 or not labels[start - 1]:
        return None
    folded = skeleton(".".join(labels[:start]))
    # No folded pair spans a dot, so the last part of the folded whole is the folded registrable label.
    joined = folded.replace(".", "")
    words = tuple([w for w in folded.replace(".", "-").split("-") if len(w) >= MIN_WORD])
    texts = (joined, *[w for w in words if w != joined]) if len(joined) > MIN_WORD else ()
    return Name(".".join(labels[start - 1:]), folded.rpartition(".")[2], joined, words, texts)


def _half(length: int) -> int:
    """Letters at each end that one edit (insert, delete, replace, swap neighbours) of a name of ``length``
    letters cannot both touch: any one edit leaves the first ``_half`` or the last ``_half`` as they were."""
    return (length - 1) // 2


def one_edit(a: str, b: str) -> bool:
    """Damerau distance at most one (insert, delete, replace, or swap two neighbours)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1:]


class LookalikeIndex(Generic[T]):
    """Registered domains by key; ``find`` gives the ones a published host imitates, with how."""

    def __init__(self, domains: Iterable[tuple[str, T]]) -> None:
        self._exact: dict[str, list[tuple[str, T]]] = defaultdict(list)  # skeleton -> (registrable, item)
        # (length, first or last ``_half(length)`` letters) -> skeletons: one edit leaves one of the two intact
        self._starts: dict[tuple[int, str], list[str]] = defaultdict(list)
        self._ends: dict[tuple[int, str], list[str]] = defaultdict(list)
        for host, item in domains:
            name = split(host)
            if name is None or len(name.label) < MIN_LENGTH:
                continue
            if name.label not in self._exact:
                half = _half(len(name.label))
                self._starts[(len(name.label), name.label[:half])].append(name.label)
                self._ends[(len(name.label), name.label[-half:])].append(name.label)
            self._exact[name.label].append((name.registrable, item))
        # Registered label lengths, with the letters each end keeps: a published key two letters longer or
        # shorter than all of them is no one-edit look-alike.
        self._halves = {len(label): _half(len(label)) for label in self._exact}
        # Registered skeletons long enough to be found inside a longer name, by their first and by their
        # last ``MIN_WORD`` letters: two look-ups per part of a published name instead of one per length.
        self._word_starts: dict[str, list[str]] = defaultdict(list)
        self._word_ends: dict[str, list[str]] = defaultdict(list)
        for label in self._exact:
            if len(label) >= MIN_WORD:
                self._word_starts[label[:MIN_WORD]].append(label)
                self._word_ends[label[-MIN_WORD:]].append(label)

    def __len__(self) -> int:
        return len(self._exact)

    def find(self, host: str) -> list[tuple[T, str]]:
        """(item, how) for each registered domain ``host`` imitates; never its own registrable domain.
        The hot loop of matching, once per published name, so written flat: no generator, a dozen look-ups."""
        if not self._exact:
            return []
        name = split(host)
        if name is None:
            return []
        hits: dict[str, str] = {}
        for key in (name.label,) if name.label == name.joined else (name.label, name.joined):
            for skel in self._near(key):
                hits.setdefault(skel, "homoglyph or other top-level domain" if skel == key else "one letter changed")
        for word in self._words(name):
            hits.setdefault(word, "our name with added words")
        if not hits:
            return []
        return [(item, how) for skel, how in hits.items() for registrable, item in self._exact[skel]
                if registrable != name.registrable]

    def _near(self, key: str) -> list[str]:
        """Registered skeletons at most one edit from ``key``: six look-ups at most."""
        found = [key] if key in self._exact else []
        candidates: list[str] = []
        halves, starts, ends = self._halves, self._starts, self._ends
        for length in (len(key) - 1, len(key), len(key) + 1):
            half = halves.get(length)
            if half is not None:
                candidates.extend(starts.get((length, key[:half]), ()))
                candidates.extend(ends.get((length, key[-half:]), ()))
        if candidates:
            found.extend([c for c in dict.fromkeys(candidates) if c != key and one_edit(c, key)])
        return found

    def _words(self, name: Name) -> list[str]:
        found = [word for word in name.words if word in self._exact]
        for text in name.texts:
            for label in self._word_starts.get(text[:MIN_WORD], ()):
                if len(label) < len(text) and text.startswith(label):
                    found.append(label)
            for label in self._word_ends.get(text[-MIN_WORD:], ()):
                if len(label) < len(text) and text.endswith(label):
                    found.append(label)
        return found
