"""Finding banned words in a message, the way people write them to get past a filter.

Both the word list and every message go through one canonical form, so whatever the
message does to a word, the list entry did too:

- Unicode: NFKC (fullwidth and styled letters), casefold, accents dropped, invisible
  format characters (zero-width spaces) dropped, common Cyrillic and Greek look-alikes
  read as Latin letters.
- Substitutions: digits and symbols that stand for letters (`sh1t`, `@ss`, `$hit`, `sh!t`);
  `l` and `1` and `i` are one letter, as are `0` and `o`.
- Spacing: a run of three or more one-letter tokens is read as one word (`f u c k`,
  `f.u.c.k`).
- Stretching: a token matches a word when it has the word's letters in order, each run
  as long as the word's or stretched to three or more (`fuuuck` is `fuck`; `as` is not
  `ass`, nor `assess` `asses`).
- Masking: a token with `*` inside (`f*ck`) matches a word of the list it fits.

Only whole tokens match (and phrases of whole tokens), never the inside of a longer word:
"Scunthorpe", "assistant" and "cocktail" are not flagged. A trailing `s` is tried off as
a plural. Matching costs one dict lookup per token; see BENCHMARKS.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from fnmatch import fnmatchcase
from importlib import resources
from itertools import groupby

# Characters that stand for letters, and look-alike letters of other scripts.
_SUBSTITUTE = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "l": "i",
        "!": "i",
        "|": "i",
        "3": "e",
        "4": "a",
        "@": "a",
        "5": "s",
        "$": "s",
        "7": "t",
        "+": "t",
        "8": "b",
        "9": "g",
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ѕ": "s",
        "α": "a",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
    }
)
# ASCII text (most messages) is split and mapped with bytes.translate: C speed.
_KEPT = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789*@$!|+")
_SEPARATE = bytes(i if i in _KEPT or i >= 128 else 32 for i in range(256))
_SUBSTITUTE_ASCII = bytes(ord(chr(i).translate(_SUBSTITUTE)) if i < 128 else i for i in range(256))
# Letters lowered, separators to spaces and substitutions made in one pass, for ASCII text
# without digits or `!`/`|` (those need the careful path: "455" is a number, "hi!" a word).
_ONE_PASS = bytes(
    _SUBSTITUTE_ASCII[_SEPARATE[ord(chr(i).lower())]] if i < 128 else i for i in range(256)
)
_CAREFUL = re.compile(r"[\d!|]").search
_NOT_KEPT = re.compile(r"[^\w*@$!|+]|_")
_EDGE_SYMBOLS = "!|+*"
_SPACED_RUN = 3
_CACHE_MAX = 50_000
# A letter written this many times or more is stretched ("fuuuck"); twice is a spelling
# ("assess" is not "asses").
_STRETCHED = 3


def _plain(text: str) -> str:
    """NFKC, casefolded, without accents and invisible format characters."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    return "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Cf"))


def _runs(word: str) -> tuple[str, tuple[int, ...]]:
    """'fuuck' -> ('fuck', (1, 2, 1, 1)): the letters without repeats, and each run's length."""
    letters, lengths = [], []
    for letter, run in groupby(word):
        letters.append(letter)
        lengths.append(len(list(run)))
    return "".join(letters), tuple(lengths)


def tokens(text: str) -> list[str]:
    """The canonical tokens of a text (numbers left out, edge `!`/`|` dropped); one-letter
    tokens are kept as they are (see `spaced`)."""
    if text.isascii():
        if _CAREFUL(text) is None:
            return text.encode("ascii").translate(_ONE_PASS).decode("ascii").split()
        parts = text.lower().encode("ascii").translate(_SEPARATE).decode("ascii").split()
    else:
        parts = _NOT_KEPT.sub(" ", _plain(text)).split()
    if any(c.isdigit() for c in text):
        parts = [p for p in parts if not p.isdigit()]
    if "!" in text or "|" in text:
        parts = [q for p in parts if (q := p.strip("!|"))]
    joined = " ".join(parts)
    if joined.isascii():
        return joined.encode("ascii").translate(_SUBSTITUTE_ASCII).decode("ascii").split()
    return joined.translate(_SUBSTITUTE).split()


def spaced(parts: list[str]) -> list[str]:
    """The words spelled out letter by letter (three or more one-letter tokens in a row)."""
    found: list[str] = []
    run: list[str] = []
    for part in [*parts, ""]:
        if len(part) == 1:
            run.append(part)
            continue
        if len(run) >= _SPACED_RUN:
            found.append("".join(run))
        run = []
    return found


class _Collapsed(dict[str, str]):
    """token -> its letters without repeats, remembered (chat reuses its words)."""

    def __missing__(self, token: str) -> str:
        collapsed = "".join(letter for letter, _ in groupby(token))
        if len(self) >= _CACHE_MAX:
            self.clear()
        self[token] = collapsed
        return collapsed


class WordFilter:
    """A compiled word list: `find(text)` names the first banned word a text contains."""

    def __init__(self, words: Iterable[str], allowed: Iterable[str] = ()) -> None:
        allowed_tokens = {" ".join(self._entry(word)) for word in allowed}
        # collapsed letters (and their plural) -> [(the list's word, its run lengths)]
        self._keys: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
        self._masked: list[str] = []  # the canonical words, for masked tokens
        # the collapsed first token -> [collapsed phrase tokens]
        self._phrases: dict[str, list[list[str]]] = {}
        self._collapsed = _Collapsed()
        for word in words:
            parts = self._entry(word)
            if not parts or " ".join(parts) in allowed_tokens:
                continue
            if len(parts) == 1:
                letters, lengths = _runs(parts[0])
                self._keys.setdefault(letters, []).append((word.strip().lower(), lengths))
                self._masked.append(parts[0])
            else:
                collapsed = [self._collapsed[p] for p in parts]
                self._phrases.setdefault(collapsed[0], []).append(collapsed)
        for entries in self._keys.values():
            # Name a match by its plainest entry ('shit', not 's_h_i_t').
            entries.sort(key=lambda entry: (not entry[0].isalpha(), len(entry[0])))
        for key, entries in list(self._keys.items()):
            if not key.endswith("s"):
                plural = self._keys.setdefault(key + "s", [])
                plural.extend((word + "s", (*lengths, 1)) for word, lengths in entries)

    @staticmethod
    def _entry(word: str) -> list[str]:
        """A list entry's canonical tokens ('f-u-c-k' and 'f u c k' are one word)."""
        parts = tokens(word.replace("*", ""))
        joined = spaced(parts)
        return joined if joined and all(len(p) == 1 for p in parts) else parts

    def __len__(self) -> int:
        return len(self._masked) + sum(len(p) for p in self._phrases.values())

    def find(self, text: str) -> str | None:
        """The banned word (as the list writes it) in `text`, or None."""
        parts = tokens(text)
        if not parts:
            return None
        if min(map(len, parts)) == 1:
            parts = [p for p in parts if len(p) > 1] + spaced(parts)
        keys = list(map(self._collapsed.__getitem__, parts))
        if self._keys.keys() & keys:
            for part, key in zip(parts, keys, strict=True):
                found = self._verify(part, key)
                if found is not None:
                    return found
        if self._phrases.keys() & keys:
            for index, key in enumerate(keys):
                for phrase in self._phrases.get(key, ()):
                    if keys[index : index + len(phrase)] == phrase:
                        return " ".join(parts[index : index + len(phrase)])
        if "*" in text:
            for part in parts:
                found = self._match_masked(part.strip(_EDGE_SYMBOLS))
                if found is not None:
                    return found
        return None

    def _verify(self, token: str, key: str) -> str | None:
        """A token matches when every run is the word's, or stretched."""
        entries = self._keys.get(key)
        if not entries:
            return None
        lengths = _runs(token)[1]
        for word, needed in entries:
            if all(
                have == need or have >= _STRETCHED
                for have, need in zip(lengths, needed, strict=True)
            ):
                return word
        return None

    def _match_masked(self, token: str) -> str | None:
        """`f*ck`: the `*`s stand for one or more letters; at least two letters shown."""
        shown = token.replace("*", "")
        if "*" not in token or len(shown) < 2 or token[0] == "*":
            return None
        pattern = re.sub(r"\*+", "*", token)
        for word in self._masked:
            if len(word) >= len(shown) + 1 and fnmatchcase(word, pattern):
                return word
        return None


def maintained_words() -> list[str]:
    """better-profanity's word list (the package's own data file), one entry a line."""
    data = resources.files("better_profanity").joinpath("profanity_wordlist.txt")
    return [line.strip() for line in data.read_text("utf-8").splitlines() if line.strip()]


def everyday_words() -> list[str]:
    """Words of the maintained list that ordinary chat uses (allowed_words.txt)."""
    data = resources.files("talkrooms.moderation").joinpath("allowed_words.txt")
    lines = data.read_text("utf-8").splitlines()
    return [w.strip() for line in lines if not line.startswith("#") for w in line.split(",")]
