"""Polish vocative (wołacz) of first names: "Witaj Krzysztofie", not "Witaj Krzysztof".

Rules by ending cover the regular names; an exceptions table covers fleeting vowels (Marek →
Marku is a rule, Paweł → Pawle is not), diminutives (Ola → Olu) and female names that do not
decline. :func:`vocative` returns None whenever the result would be a guess — foreign-looking
names, odd characters, unknown endings — and the caller greets without the name.
"""

from __future__ import annotations

import re
import unicodedata

# Fleeting vowels, diminutives and names whose vocative is the nominative.
EXCEPTIONS: dict[str, str | None] = {
    "Paweł": "Pawle", "Gaweł": "Gawle",
    "Kacper": "Kacprze", "Aleksander": "Aleksandrze", "Lysander": None,
    "Piotr": "Piotrze", "Ola": "Olu", "Ela": "Elu", "Ula": "Ulu", "Ala": "Alu", "Iza": "Izo",
    "Ania": "Aniu", "Bronia": "Broniu", "Frania": "Franiu", "Mania": "Maniu", "Tonia": "Toniu",
    "Hania": "Haniu", "Dania": None, "Sonia": "Soniu",
    "Bóg": None, "Tomek": "Tomku", "Czesiek": "Cześku", "Zdzisiek": "Zdzisiu",
    "Józek": "Józku", "Stasiek": "Stasiu", "Franek": "Franku", "Jurek": "Jurku",
    "Maciek": "Maćku", "Heniek": "Heńku", "Kaziek": "Kaziu", "Jola": "Jolu", "Mela": "Melu",
    "Hela": "Helu",
    "Ksawery": "Ksawery", "Jerzy": "Jerzy", "Antoni": "Antoni", "Ignacy": "Ignacy",
    "Cezary": "Cezary", "Feliks": "Feliksie",
    # Female names ending in a consonant or -i do not decline.
    "Miriam": "Miriam", "Ruth": None, "Nel": "Nel", "Noemi": "Noemi", "Abigail": None,
    "Beatrycze": "Beatrycze", "Inez": None, "Karmen": "Karmen", "Ingrid": "Ingrid",
    # Ambiguous or not Polish enough to guess.
    "Nikola": None, "Andrew": None, "Matthew": None, "Sasza": None, "Misza": None,
}

_POLISH_WORD = re.compile(r"^[A-ZĄĆĘŁŃÓŚŹŻ][a-ząćęłńóśźż]{1,24}$")
# Letter sequences that do not occur in Polish first names: a sure sign of a foreign name.
_FOREIGN = re.compile(r"[qvx]|th|ph|gh|ck|ee|oo|ou|ae|aa|ey|ay|oy|uy|ui|^y|(?<![cs])h(?=[^aeiouy])")
# Polish names double a consonant only inside, and only these (Anna, Wioletta, Kamilla).
_DOUBLE = re.compile(r"([^aeiouyąęó])\1")
_DOUBLE_OK = {"nn", "tt", "ll"}


def _looks_foreign(low: str) -> bool:
    if _FOREIGN.search(low):
        return True
    for match in _DOUBLE.finditer(low):
        if match.group(0) not in _DOUBLE_OK or match.end() == len(low) or not low.endswith("a"):
            return True
    return False


# Consonants after which -a/-ia names take -u rather than -o (soft diminutives: Kasia → Kasiu).
_SOFT_IA = ("sia", "zia", "cia", "dzia")


def _normalize(name: str) -> str:
    name = unicodedata.normalize("NFC", name.strip())
    if name.isupper() or name.islower():
        name = name[:1].upper() + name[1:].lower()
    return name


def _by_rule(n: str) -> str | None:
    low = n.lower()
    # Female (and a few male: Kuba, Barnaba) names in -a.
    if low.endswith(_SOFT_IA):
        return n[:-1] + "u"
    if low.endswith("a"):
        return n[:-1] + "o"
    if low.endswith(("y", "i")):
        return n  # adjectival/-i names keep their form: Jerzy, Antoni
    if low.endswith("iek"):
        return None  # Maciek → Maćku, Stasiek → Stasiu: the softening varies; table only
    if low.endswith("ek") and len(n) >= 4:
        return n[:-2] + "ku"  # fleeting e: Marek → Marku, Jacek → Jacku, Olek → Olku
    if low.endswith(("k", "g", "ch", "h")):
        return n + "u"  # velars: Patryk → Patryku, Wojciech → Wojciechu
    if low.endswith(("sz", "cz", "rz", "ż", "j", "l", "c", "dź", "dż")):
        return n + "u"  # hardened/soft: Tomasz → Tomaszu, Andrzej → Andrzeju, Kamil → Kamilu
    if low.endswith("ł"):
        return n[:-1] + "le"  # Michał → Michale
    if low.endswith("r"):
        return n + "ze"  # Artur → Arturze
    if low.endswith("st"):
        return n[:-2] + "ście"  # Ernest → Erneście
    if low.endswith("t"):
        return n[:-1] + "cie"  # Robert → Robercie
    if low.endswith("d"):
        return n + "zie"  # Dawid → Dawidzie
    if low.endswith(("n", "m", "f", "w", "b", "p", "s", "z")):
        return n + "ie"  # Jan → Janie, Józef → Józefie, Borys → Borysie
    return None


def vocative(name: str | None) -> str | None:
    """The vocative of a Polish first name, or None when it cannot be given safely."""
    if not name or not isinstance(name, str) or len(name) > 40:
        return None
    n = _normalize(name)
    if n in EXCEPTIONS:
        return EXCEPTIONS[n]
    if not _POLISH_WORD.match(n) or _looks_foreign(n.lower()):
        return None
    return _by_rule(n)


_NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ '\-](?=[^\W\d_])){0,39}$")


def display_name(name: str | None) -> str | None:
    """The first name as given, if it looks like a name at all (letters, ' and -)."""
    if not name or not isinstance(name, str):
        return None
    n = _normalize(name)
    return n if _NAME.match(n) else None
