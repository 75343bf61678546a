"""A name's search key: the spelling skeleton that variants of one name share.

Pure functions of the text, so the models can fill each name's stored key in `save()` and the
search (detainees/read/search.py) can compute the query's key the same way. Any change to
`name_key` needs a data migration that recomputes the stored keys (`refresh_search_keys`).
"""

import re
import unicodedata

_APOSTROPHES = "'’‘ʼʻʽʾʿ`´′"
_LATIN_EXTRA = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h"}
    | dict.fromkeys(_APOSTROPHES)
)
# Letters Arabic, Persian and Pashto spell differently for one sound, and the tatweel.
_ARABIC = str.maketrans({"ى": "ي", "ی": "ي", "ې": "ي", "ک": "ك", "ة": "ه", "ۀ": "ه", "ٱ": "ا"})
_ARABIC_DROP = str.maketrans(dict.fromkeys("ـ"))

WORD = re.compile(r"[^\W_]+")

# Pieces of one name written apart or together: "Jalal ud-Din"/"Jalaluddin",
# "Sibghat Ullah"/"Sibghatullah", "Abd al-Rahman"/"Abdul Rahman"/"Abdurrahman".
_JOINS = [
    (
        re.compile(r"\babd(?:[aeiou][lrsdtzn]|u)?[\s-]+(?:[aeiou][lrsdtzn]h?[\s-]+)?(?=[a-z])"),
        "abd",
    ),
    (re.compile(r"(?<=[a-z])[\s-]+[aeiou][lrdnstz]h?[\s-]+d(?:ee|i)ne?\b"), "uddin"),
    (re.compile(r"(?<=[a-z])[\s-]+([aeiou]d{1,2}(?:ee|i)ne?)\b"), r"\1"),
    (re.compile(r"(?<=[a-z])[\s-]+(ull?ah?|oll?ah|allah)\b"), r"\1"),
]

# Rewrites of one Latin word, in order; vowels and doubled letters are settled last.
_LATIN_RULES = [
    (re.compile(r"(?<=[^aeiou])[aou](?:ll+ah?|lah)$"), "ula"),  # -ullah, -ollah, -allah
    (re.compile(r"[aeiou]d+(?:ee|i)ne?$"), "udin"),  # -uddin, -eddine, -addin
    (re.compile(r"(.)\1+"), r"\1"),
    (re.compile(r"dzh|dj"), "j"),
    (re.compile(r"tch"), "ch"),
    (re.compile(r"kh"), "x"),  # Uzbek Latin writes kh as x
    (re.compile(r"gh"), "g"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"th"), "t"),
    (re.compile(r"dh"), "d"),
    (re.compile(r"q"), "k"),
    (re.compile(r"c(?!h)"), "k"),
    (re.compile(r"w"), "v"),
    (re.compile(r"y(?![aeiou])"), "i"),  # Karzay/Karzai, Ubaydah/Ubaidah; not Hekmatyar
    (re.compile(r"e"), "i"),
    (re.compile(r"o"), "u"),
    (re.compile(r"(?<=[aiu])h$"), ""),  # Ubaidah/Ubaida
    (re.compile(r"(.)\1+"), r"\1"),
    (re.compile(r"^abd[aiu]l?(?=.)"), "abd"),  # Abdul-, Abdel-, Abdur-
    (re.compile(r"^(?:m[aiu]h?[aiu]m+[aiu]d|muhd|mhd|md)$"), "muhamad"),  # Mohammed, Mohd
]

_PARTICLES = {"al", "el", "ul", "il", "ol", "ad", "ud", "ed", "ar", "ur", "ash", "as", "az"}
_PARTICLES |= {"at", "an", "ath", "the", "of", "and", "for"}

_HONORIFICS_LATIN = """
    qari kari qori mullah mulla mollah molla mulah maulvi moulvi molvi maulavi moulavi
    mawlawi mawlavi mowlawi mowlavi maulawi molavi mavlavi maulana moulana mawlana mowlana
    molana haji hajji hajj haj alhaj alhajj hadji sheikh shaikh shaykh sheik shaik cheikh
    shiekh mufti hafiz hafez ustad ustaz ustadh ostad mr dr doctor engineer eng general gen
    commander cmdr president
"""
_HONORIFICS_SCRIPT = """
    قاري ملا مولوي مولانا حاجي حاج شيخ مفتي حافظ استاد
    кари кори қори мулла мавлави мавлоно хаджи хожи ҳожи шейх шайх муфтий домла
"""


def plain(text: str) -> str:
    """Casefolded, without accents, apostrophes or tatweel, Arabic letter variants unified."""
    text = text.casefold().translate(_LATIN_EXTRA)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", text).translate(_ARABIC).translate(_ARABIC_DROP)


def _word_key(word: str) -> str:
    if not word.isascii():
        # Original script is kept as written, less the Arabic article: المصري/مصري.
        return word[2:] if word.startswith("ال") and len(word) >= 5 else word
    if word == "ibn":
        return "bin"
    for pattern, replacement in _LATIN_RULES:
        word = pattern.sub(replacement, word)
    return word


_HONORIFICS = {_word_key(w) for w in WORD.findall(plain(_HONORIFICS_LATIN + _HONORIFICS_SCRIPT))}


def name_key(text: str) -> str:
    """The spelling skeleton search compares: variants of one name share it.

    Accents, case, honorifics (Qari, Mullah, Maulvi...), the article al-/el-/ul- and word order
    do not count; transliteration variants meet (e/i, o/u, doubled letters, q/k, kh/x, w/v,
    Mohammad/Muhammad/Mohammed). Words in other scripts are kept as written. A name made only of
    honorifics or particles keeps them, so "Mullah" alone still has a key.
    """
    text = plain(text)
    for pattern, replacement in _JOINS:
        text = pattern.sub(replacement, text)
    words = WORD.findall(text)
    keys = [_word_key(w) for w in words]
    kept = [k for w, k in zip(words, keys, strict=True) if w not in _PARTICLES]
    kept = [k for k in kept if k not in _HONORIFICS] or kept or keys
    return " ".join(sorted(kept))


def only_titles(q: str) -> list[str]:
    """The words of `q` if they are all honorifics or particles ("Qari", "Mullah"), else []."""
    words = WORD.findall(plain(q))
    if all(word in _PARTICLES or _word_key(word) in _HONORIFICS for word in words):
        return words
    return []


def fill_search_key(instance, update_fields=None):
    """Set `instance.search_key` from its `name`; return `update_fields` widened to save it."""
    instance.search_key = name_key(instance.name)
    if update_fields is not None and "name" in update_fields:
        return {*update_fields, "search_key"}
    return update_fields
