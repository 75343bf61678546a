"""Fuzzy dates: EDTF text with its earliest and latest possible day, and the words people use.

Almost no date in this domain is a plain day. We store the Library of Congress Extended
Date/Time Format (EDTF) text, plus the earliest and latest day it can mean, so that sorting and
range filters run in the database. Researchers may type "spring 2011" or "between March 2013 and
October 2014"; `to_edtf` turns that into EDTF or says why it cannot. A date never gains
precision: "2010" stays a year, with bounds 1 January and 31 December 2010.

Bounds are the widest ("fuzzy") ones the edtf package computes, so "about 2010" (2010~) spans
2009-01-01 to 2011-12-31. Open ends (`..`) and unknown ends of a period are None. Two gaps in
the package are filled here: it accepts 29 February in any year, which we refuse, and it puts
winter (2011-24) in December alone, while "winter 2011" may be the winter that ends early in
2011 or the one that starts late in it, so its bounds run from 1 December 2010 to the end of
February 2012.
"""

import calendar
import functools
import re
import time
import unicodedata
from dataclasses import dataclass, replace
from datetime import date

from django import forms
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import F, Q
from edtf import parse_edtf
from edtf.parser import parser_classes as _edtf_parser_classes

# The edtf package prints a debugging line to stdout when it refuses some input (../199X,
# 2011-XX/2011, ../ ...). A module-level `print` there shadows the builtin for that module only.
_edtf_parser_classes.print = lambda *args, **kwargs: None

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MONTHS = {name.lower(): i for i, name in enumerate(MONTH_NAMES, start=1)}
MONTHS.update({name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, start=1)})
MONTHS["sept"] = 9

UNKNOWN_WORDS = {
    "",
    "?",
    "unknown",
    "date unknown",
    "unknown date",
    "not known",
    "date not known",
    "n/a",
    "n.d.",
    "no date",
    "undated",
}

SEASONS = {"spring": 21, "summer": 22, "autumn": 23, "fall": 23, "winter": 24}
SEASON_NAMES = {21: "spring", 22: "summer", 23: "autumn", 24: "winter"}
HEMISPHERE_SEASONS = {
    25: "spring {year} (northern hemisphere)",
    26: "summer {year} (northern hemisphere)",
    27: "autumn {year} (northern hemisphere)",
    28: "winter {year} (northern hemisphere)",
    29: "spring {year} (southern hemisphere)",
    30: "summer {year} (southern hemisphere)",
    31: "autumn {year} (southern hemisphere)",
    32: "winter {year} (southern hemisphere)",
}
PARTS_OF_YEAR = {
    33: "first quarter of {year}",
    34: "second quarter of {year}",
    35: "third quarter of {year}",
    36: "fourth quarter of {year}",
    37: "January to April {year}",
    38: "May to August {year}",
    39: "September to December {year}",
    40: "first half of {year}",
    41: "second half of {year}",
}
QUARTER_WORDS = {"first": 33, "1st": 33, "second": 34, "2nd": 34, "third": 35, "3rd": 35}
QUARTER_WORDS.update({"fourth": 36, "4th": 36, "last": 36})
HALF_WORDS = {"first": 40, "1st": 40, "second": 41, "2nd": 41, "last": 41}
# Seasons that the edtf package places in December alone although they run into the next year.
WINTERS = {24, 28, 30}

EXAMPLES = (
    'Try "20 April 2011", "April 2011", "spring 2011", "about 2010", '
    '"between March 2013 and October 2014", "before June 2014" or "unknown", '
    "or EDTF such as 2011-04-20, 2011-21, ../2014-06"
)
NOT_EDTF = "it is not valid EDTF"

# Bounds on what reaches a parser. The edtf package's grammar (pyparsing) takes time that grows
# much faster than its input on some forms: a list of 1,000 characters took 15 s. Every date
# read here, from a query string, an API body, an import cell or the admin, is first held to
# these bounds, in time linear in its length; the common forms never reach the grammar at all.
MAX_LENGTH = 100  # the longest date text read; EDTFField stores at most 100 characters too
MAX_MEMBERS = 10  # dates in one EDTF list [a,b] or set {a,b}
# Every character a date may hold: digits, the EDTF marks and, for dates in words, letters.
# EDTF's long years (Y...), exponents (E) and significant digits (S) are left out: only years 1
# to 9999 can be stored.
_ALLOWED = re.compile(r"[0-9A-Za-z .,;:'’()/~?%^+\-–—\[\]{}]*")
_EDTF_ALLOWED = re.compile(r"[0-9XTZ:+.,/~?%^\-\[\]{} ]*")


class FuzzyDateError(ValueError):
    """Why a text is not a date we can store; str(err) is a whole sentence."""

    def __init__(self, reason: str, text: str | None = None):
        self.reason = reason.rstrip(".")
        self.text = text
        if text is None:
            message = f"{self.reason[:1].upper()}{self.reason[1:]}."
        else:
            message = f"Could not read '{text}' as a date: {self.reason}."
        super().__init__(message)


class _Unreadable(FuzzyDateError):
    """No form we know matched; a more specific reason, if there is one, wins over this."""


class _Ambiguous(FuzzyDateError):
    """A numeric day that could be read day-first or month-first."""


@dataclass(frozen=True)
class FuzzyDate:
    edtf: str  # canonical EDTF; "" means unknown
    earliest: date | None  # earliest possible day; None: open or unknown
    latest: date | None  # latest possible day; None: open or unknown

    @classmethod
    def parse(cls, text: str, reading: "DateReading | None" = None) -> "FuzzyDate":
        """EDTF or words ("spring 2011", "before June 2014"); FuzzyDateError says why not.

        `reading` says how a source writes its dates (see DateReading); without one, only
        English words and unambiguous numbers are read."""
        text = "" if text is None else str(text)
        _check_length(text)
        if reading is not None and not reading.is_default:
            text = _fold(text)
        raw = " ".join(text.split())
        try:
            _check_shape(raw, _ALLOWED)
            if reading is not None and not reading.is_default:
                found = _read_register(raw.lower(), reading)
                if found is not None:
                    return found
            return _parse_text(raw, reading)
        except FuzzyDateError as exc:
            # Only where a reading can be given (an import): a site visitor has no --locale.
            hint = ""
            if reading is not None and not reading.locales:
                hint = _locale_hint(raw)
            if reading is not None and reading.is_default and not hint:
                hint = _two_digit_hint(raw)
            if exc.text == raw and not hint:
                raise
            raise FuzzyDateError(exc.reason + hint, raw) from exc

    @classmethod
    def from_edtf(cls, edtf: str) -> "FuzzyDate":
        """Strict EDTF only; "" is unknown. FuzzyDateError says why a text is refused."""
        text = edtf or ""
        _check_length(text)
        text = text.strip()
        if not text:
            return cls("", None, None)
        _check_shape(text, _EDTF_ALLOWED)
        try:
            return _from_edtf(text)
        except FuzzyDateError as exc:
            raise FuzzyDateError(exc.reason, text) from exc

    @property
    def is_unknown(self) -> bool:
        return self.edtf == ""

    def display(self) -> str:
        return humanize(self.edtf)

    def __str__(self) -> str:
        return self.display()


def to_edtf(text: str, reading: "DateReading | None" = None) -> str:
    """Words or EDTF -> canonical EDTF ("" for unknown); FuzzyDateError says why not."""
    return FuzzyDate.parse(text, reading).edtf


# The field beside each fuzzy date `x` holding the text it was read from: `x_as_written`.
AS_WRITTEN = "_as_written"


def as_written(text, edtf: str) -> str:
    """What to keep of the text a date was read from: "" when it was the stored EDTF itself
    (give or take spaces), else the text as the source wrote it, spaces collapsed, so that the
    words ("principios de MAR/1976", "s/f") outlive their conversion to EDTF."""
    written = " ".join(str(text or "").split())
    if not written or written.replace(" ", "") == (edtf or ""):
        return ""
    return written[:MAX_LENGTH]


def humanize(edtf: str) -> str:
    """Display wording for stored EDTF. Never raises: unreadable text is shown as it is."""
    text = str(edtf).strip() if edtf else ""
    if not text:
        return "date unknown"
    return _humanized(text)


@functools.lru_cache(maxsize=8192)
def _humanized(text: str) -> str:
    """The wording of one stored text, kept: a page shows the same few dates many times (every
    row of a list, every fact of a timeline), and the wording depends on the text alone."""
    try:
        return _humanize(text) or text
    except Exception:  # display must never fail; the raw text is the honest fallback
        return text


# --- Bounds on input ---------------------------------------------------------------------------


def _check_length(text: str) -> None:
    """Refuses text longer than MAX_LENGTH; the text itself is not repeated in the message."""
    if len(text) > MAX_LENGTH:
        raise FuzzyDateError(
            f"a date has at most {MAX_LENGTH} characters (this one has {len(text):,})"
        )


def _check_shape(text: str, allowed: re.Pattern) -> None:
    """Refuses, in one linear pass each, characters no date has, nested or misplaced brackets,
    and lists or sets of more than MAX_MEMBERS dates."""
    if not allowed.fullmatch(text):
        bad = sorted({c for c in text if not allowed.fullmatch(c)})[:5]
        shown = " ".join(repr(c) for c in bad)
        raise FuzzyDateError(f"a date cannot contain {shown}", text)
    opening = text.count("[") + text.count("{")
    closing = text.count("]") + text.count("}")
    if not opening and not closing:
        return
    if opening != 1 or closing != 1 or text[:1] + text[-1:] not in ("[]", "{}"):
        raise FuzzyDateError(
            "an EDTF list is written [a,b] and a set {a,b}, once, around the whole date; "
            "they cannot be nested or combined with other forms",
            text,
        )
    if text.count(",") >= MAX_MEMBERS:
        raise FuzzyDateError(
            f"an EDTF list or set holds at most {MAX_MEMBERS} dates "
            f"(this one has {text.count(',') + 1})"
        )


# --- EDTF -> bounds -----------------------------------------------------------------------------


# The EDTF grammar (pyparsing) takes about 10 ms a date: imports and lists repeat the same dates,
# and FuzzyDate is immutable, so results are kept. A plain, valid day needs no grammar at all.
@functools.lru_cache(maxsize=8192)
def _from_edtf(text: str) -> FuzzyDate:
    if len(text) > MAX_LENGTH:  # built from words within the bound; never longer, but be sure
        raise FuzzyDateError(f"a date has at most {MAX_LENGTH} characters")
    if (plain := _plain_edtf(text)) is not None:
        return plain
    if not _EDTF_ALLOWED.fullmatch(text):
        raise FuzzyDateError(NOT_EDTF)
    if "/" in text:
        start, end = text.split("/", 1)
        if (start == ".." and "X" in end) or (end == ".." and "X" in start):
            # The package cannot parse these (and prints a trace for some of them).
            raise FuzzyDateError(
                "a period open at one end cannot start or end with a decade or other "
                'unspecified digits in EDTF; give a year instead, e.g. "before 1990" or '
                '"after 1999"'
            )
    parsed = _parse_edtf(text)
    _check_days(text)
    canonical = re.sub(r",\s+", ",", str(parsed))
    if "/" in canonical:
        start, end = canonical.split("/", 1)
        earliest = _side_bound(start, lower=True)
        latest = _side_bound(end, lower=False)
        if start not in ("", "..") and end not in ("", ".."):
            if _side_bound(end, lower=False, strict=True) < _side_bound(
                start, lower=True, strict=True
            ):
                raise FuzzyDateError(
                    f"the end ({humanize(end)}) is before the start ({humanize(start)})"
                )
    else:
        earliest = _to_day(parsed.lower_fuzzy())
        latest = _to_day(parsed.upper_fuzzy())
        earliest, latest = _widen_winter(canonical, earliest, latest)
    if earliest is not None and latest is not None and earliest > latest:
        raise FuzzyDateError(
            f"it ends ({_day_text(latest)}) before it starts ({_day_text(earliest)})"
        )
    return FuzzyDate(canonical, earliest, latest)


_PLAIN = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _plain_bounds(part: str) -> tuple[date, date] | None:
    """First and last day of a plain year, month or day (no qualifier, season or X), if valid."""
    m = _PLAIN.fullmatch(part)
    if not m or m[1] == "0000":
        return None
    year = int(m[1])
    if m[2] is None:
        return date(year, 1, 1), date(year, 12, 31)
    month = int(m[2])
    if not 1 <= month <= 12:
        return None  # a season or part of a year: the grammar reads those
    last = _days_in(year, month)
    if m[3] is None:
        return date(year, month, 1), date(year, month, last)
    day = int(m[3])
    if not 1 <= day <= last:
        return None  # the grammar's path says what is wrong with it
    return date(year, month, day), date(year, month, day)


def _plain_edtf(text: str) -> FuzzyDate | None:
    """The forms almost every stored date has, read by linear regexes without the grammar: a
    plain year, month or day; a period of two (either end may be open, ".."); a list or set of
    them. None for anything else, which goes to the grammar. The bounds are the ones the
    package gives these forms (tests compare the two)."""
    if (bounds := _plain_bounds(text)) is not None:
        return FuzzyDate(text, *bounds)
    if text.count("/") == 1:
        start, end = text.split("/")
        first = None if start == ".." else _plain_bounds(start)
        last = None if end == ".." else _plain_bounds(end)
        if (first is None and start != "..") or (last is None and end != ".."):
            return None
        if first is None and last is None:
            return None
        if first is not None and last is not None and last[1] < first[0]:
            return None  # the grammar's path explains the order
        return FuzzyDate(text, first and first[0], last and last[1])
    if text[:1] + text[-1:] in ("[]", "{}") and "/" not in text:
        members = [_plain_bounds(m) for m in text[1:-1].split(",")]
        if not members or any(m is None for m in members):
            return None
        return FuzzyDate(text, min(m[0] for m in members), max(m[1] for m in members))
    return None


def _parse_edtf(text: str):
    try:
        return parse_edtf(text)
    except Exception as exc:  # the package raises EDTFParseException, or TypeError on some input
        raise FuzzyDateError(_why_not_edtf(text)) from exc


def _side_bound(side: str, *, lower: bool, strict: bool = False) -> date | None:
    """Earliest (lower) or latest possible day of one end of a period; None if open/unknown."""
    if side in ("", ".."):
        return None
    parsed = _parse_edtf(side)
    if strict:
        struct = parsed.lower_strict() if lower else parsed.upper_strict()
    else:
        struct = parsed.lower_fuzzy() if lower else parsed.upper_fuzzy()
    day = _to_day(struct)
    earliest, latest = _widen_winter(side, day, day)
    return earliest if lower else latest


def _to_day(struct) -> date | None:
    if not isinstance(struct, time.struct_time):
        return None  # the package gives +/- infinity for an open end
    try:
        return date(struct.tm_year, struct.tm_mon, struct.tm_mday)
    except (ValueError, OverflowError) as exc:
        raise FuzzyDateError("only dates from the year 1 to 9999 can be stored") from exc


def _widen_winter(part: str, earliest: date | None, latest: date | None):
    """Winter 2011 may be December 2010 to February 2011 or December 2011 to February 2012."""
    m = re.fullmatch(r"(\d{4})-(\d{2})", part)
    if not m or int(m[2]) not in WINTERS:
        return earliest, latest
    year = int(m[1])
    if year > 1:
        earliest = date(year - 1, 12, 1)
    if year < 9999:
        latest = date(year + 1, 2, calendar.monthrange(year + 1, 2)[1])
    return earliest, latest


def _days_in(year: int, month: int) -> int:
    if month == 2:
        return 29 if calendar.isleap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _check_days(text: str) -> None:
    """The package's grammar accepts 29 February in every year; refuse it outside leap years."""
    for m in re.finditer(r"(?<![\dX])(\d{4})[~?%]?-[~?%]?(\d{2})[~?%]?-[~?%]?(\d{2})", text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
        if 1 <= month <= 12 and not 1 <= day <= _days_in(year, month):
            raise FuzzyDateError(f"{MONTH_NAMES[month - 1]} {year} has no day {day}")


def _why_not_edtf(text: str) -> str:
    """The most specific reason we can give for EDTF that the package refuses."""
    for m in re.finditer(r"(?<![\dX])(\d{4})-(\d{2})(?:-(\d{2}))?(?![\dX])", text):
        year, month = int(m[1]), int(m[2])
        if m[3] is None:
            if not (1 <= month <= 12 or 21 <= month <= 41):
                return f"month {month} does not exist"
            continue
        if not 1 <= month <= 12:
            return f"month {month} does not exist"
        day = int(m[3])
        if not 1 <= day <= _days_in(year, month):
            return f"{MONTH_NAMES[month - 1]} {year} has no day {day}"
    if re.search(r"\d{4}-(2[1-9]|3\d|4[01])[~?%]", text):
        return (
            "EDTF cannot mark a season or part of a year as approximate or uncertain; "
            'give a range of months instead, e.g. "between February and June 2011"'
        )
    if re.search(r"[/\[{]", text) and re.search(r"\d{4}-(2[5-9]|3\d|4[01])(?!\d)", text):
        return (
            "quarters, halves and hemisphere seasons cannot be part of a period or a list "
            "in EDTF; give the months instead, e.g. 2011-01/2011-06"
        )
    if re.search(r"[\[{]", text) and re.search(r"\d{4}-2[1-4](?!\d)", text):
        return "a list of dates in EDTF can hold days, months and years, but not seasons"
    return NOT_EDTF


def _day_text(d: date) -> str:
    return f"{d.day} {MONTH_NAMES[d.month - 1]} {d.year}"


# --- words -> EDTF ------------------------------------------------------------------------------

_ORD = r"(?:st|nd|rd|th)?"
_QUALIFIER_APPROX = re.compile(
    r"(?:(?:about|around|circa|approximately|roughly)\s+|(?:approx|ca|c)\.\s*|(?:ca|c)\s+)"
)
_QUALIFIER_UNCERTAIN = re.compile(r"(?:possibly|probably|perhaps|maybe|likely|presumably)\s+")
_RANGE_SEPARATORS = re.compile(r"\s+(?:to|until|till|through|thru)\s+|\s*[-–—]\s*")


def _parse_text(raw: str, reading: "DateReading | None" = None) -> FuzzyDate:
    lowered = raw.lower()
    if lowered in UNKNOWN_WORDS or lowered.rstrip(".") in UNKNOWN_WORDS:
        return FuzzyDate("", None, None)
    edtf_error = None
    if not re.search(r"[A-Za-z]{2,}", raw.replace("X", "")):  # no words: try EDTF first
        try:
            return _from_edtf(re.sub(r"\s*([/,])\s*", r"\1", raw))
        except FuzzyDateError as exc:
            edtf_error = exc
    try:
        return _from_edtf(_words(lowered))
    except FuzzyDateError as exc:
        # Text without words that is not valid EDTF: the EDTF reason, when it names one, is
        # the one that helps ("month 13 does not exist").
        if edtf_error is None:
            reason = exc.reason
        elif edtf_error.reason != NOT_EDTF:
            reason = edtf_error.reason
        elif isinstance(exc, _Unreadable):
            reason = f"it is neither valid EDTF nor a form of date we know. {EXAMPLES}"
        else:
            reason = exc.reason
        raise FuzzyDateError(reason, raw) from exc


def _words(t: str) -> str:
    t = t.rstrip(" .,;")
    t = re.sub(r"^(?:some ?time|at some point)\s+", "", t)
    if m := re.fullmatch(
        r"(?:between|from)\s+(.+?)\s+(?:and|to|until|till|through|thru|[-–—])\s+(.+)", t
    ):
        return _interval(m[1], m[2])
    if m := re.fullmatch(
        r"(?:before|by|until|till|up to|no later than|not after|prior to|on or before)\s+(.+)",
        t,
    ):
        return f"../{_point(m[1])}"
    if m := re.fullmatch(r"(.+?),?\s+or\s+(?:earlier|before)", t):
        return f"../{_point(m[1])}"
    if m := re.fullmatch(
        r"(?:after|since|from|no earlier than|not before|on or after)\s+(.+?)"
        r"(?:\s+on(?:wards?)?)?",
        t,
    ):
        return f"{_point(m[1])}/.."
    if m := re.fullmatch(r"(.+?),?\s+(?:or later|or after|on(?:wards?)?)", t):
        return f"{_point(m[1])}/.."
    try:
        return _point(t)
    except _Unreadable as exc:
        unreadable = exc
    specific = None
    for sep in _RANGE_SEPARATORS.finditer(t):
        first, second = t[: sep.start()], t[sep.end() :]
        if not first or not second:
            continue
        try:
            return _interval(first, second)
        except _Unreadable:
            continue
        except FuzzyDateError as exc:
            specific = specific or exc
    if m := re.fullmatch(r"(.+?),?\s+or\s+(.+)", t):
        return _alternatives(m[1], m[2])
    if specific is not None:
        raise specific
    raise unreadable


def _interval(first: str, second: str) -> str:
    end = _point(second)
    start = _point(first, context=end)
    result = f"{start}/{end}"
    _from_edtf(result)  # the end must not come before the start; the package must accept it
    return result


def _alternatives(first: str, second: str) -> str:
    second_edtf = _point(second)
    first_edtf = _point(first, context=second_edtf)
    result = f"[{first_edtf},{second_edtf}]"
    _from_edtf(result)
    return result


def _point(text: str, context: str | None = None) -> str:
    """One date in words (no 'between', 'before'...), as EDTF, with its qualifier."""
    t = text.strip(" ,;")
    approximate = uncertain = False
    if m := re.fullmatch(r"(.+?)\s*(?:\?|\(uncertain\))", t):
        uncertain, t = True, m[1]
    while True:
        t = re.sub(r"^(?:(?:some ?time|at some point)\s+)?(?:in|during|within)\s+", "", t)
        if m := _QUALIFIER_APPROX.match(t):
            approximate, t = True, t[m.end() :]
        elif m := _QUALIFIER_UNCERTAIN.match(t):
            uncertain, t = True, t[m.end() :]
        else:
            break
    if m := re.fullmatch(r"(early|mid|middle|late)(?:\s*-\s*|\s+)(?:in\s+|of\s+)?(.+)", t):
        raise FuzzyDateError(_too_vague(m[1], m[2]))
    core = _core(t, context)
    if not (approximate or uncertain):
        return core
    if re.fullmatch(r"\d{4}-(2[1-9]|3\d|4[01])", core):
        raise FuzzyDateError(
            f"EDTF cannot mark a season or part of a year ('{t}') as approximate or "
            f'uncertain; give a range of months instead, e.g. "between February and June '
            f'{core[:4]}"'
        )
    return core + ("%" if approximate and uncertain else "~" if approximate else "?")


def _too_vague(word: str, rest: str) -> str:
    word = "mid" if word == "middle" else word
    part = {"early": 0, "mid": 1, "late": 2}[word]
    if m := re.fullmatch(r"(?:the\s+)?(\d{3})0'?s", rest):
        decade = int(m[1]) * 10
        first, last = ((0, 3), (4, 6), (7, 9))[part]
        example = f"between {decade + first} and {decade + last}"
        plain = f"the {decade}s"
    elif m := re.fullmatch(r"(\d{4})", rest):
        months = ("January and April", "May and August", "September and December")[part]
        example = f"between {months} {rest}"
        plain = rest
    elif (m := re.fullmatch(r"([a-z]+)\.?,?\s+(?:of\s+)?(\d{4})", rest)) and m[1] in MONTHS:
        month, year = MONTHS[m[1]], int(m[2])
        first, last = ((1, 10), (10, 20), (20, _days_in(year, month)))[part]
        plain = f"{MONTH_NAMES[month - 1]} {year}"
        example = f"between {first} and {last} {plain}"
    else:
        example, plain = "between March and June 2011", "2011"
    return (
        f"'{word}' has no agreed start or end, so storing it would invent precision; "
        f'say which days, months or years your source allows, e.g. "{example}", '
        f'or just "{plain}"'
    )


def _core(t: str, context: str | None) -> str:
    t = re.sub(r"^the\s+", "", t)
    if re.fullmatch(r"\d{4}(?:-\d{2}){0,2}", t):  # an EDTF day, month, season or year
        return _from_edtf(t).edtf
    if (
        re.search(r"\b(today|yesterday|tomorrow|next|this|recently|now)\b", t)
        or re.search(r"\b(?:days?|weeks?|months?|years?|decades?|time|while)\s+ago\b", t)
        or (re.search(r"\blast\b", t) and not re.search(r"\d{4}", t))
    ):
        raise FuzzyDateError(
            'it is relative to today; write the calendar date, e.g. "20 April 2011"'
        )
    if m := re.fullmatch(r"(spring|summer|autumn|fall|winter)(?:\s+of)?\s+(\d{4})", t):
        return f"{m[2]}-{SEASONS[m[1]]}"
    if m := re.fullmatch(
        r"(first|1st|second|2nd|third|3rd|fourth|4th|last)\s+quarter"
        r"(?:\s+of)?\s+(\d{4})",
        t,
    ):
        return f"{m[2]}-{QUARTER_WORDS[m[1]]}"
    if m := re.fullmatch(r"q([1-4])\s*(?:of\s+)?(\d{4})", t):
        return f"{m[2]}-{32 + int(m[1])}"
    if m := re.fullmatch(r"(first|1st|second|2nd|last)\s+half(?:\s+of)?\s+(\d{4})", t):
        return f"{m[2]}-{HALF_WORDS[m[1]]}"
    if m := re.fullmatch(r"(\d{2})00'?s", t):
        century = int(m[1]) * 100
        raise FuzzyDateError(
            f"'{t}' could mean the decade {century}–{century + 9} or the century "
            f'{century}–{century + 99}; type "between {century} and {century + 9}" or '
            f'"between {century} and {century + 99}"'
        )
    if m := re.fullmatch(r"(\d{3})0'?s", t):
        return f"{m[1]}X"
    if m := re.fullmatch(r"(?:year\s+)?(\d{4})", t):
        return m[1]
    if m := re.fullmatch(r"([a-z]+)\.?,?\s+(?:of\s+)?(\d{4})", t):
        return _month_edtf(m[1], int(m[2]))
    if m := re.fullmatch(rf"(\d{{1,2}}){_ORD}\s+(?:of\s+)?([a-z]+)\.?,?\s+(\d{{4}})", t):
        return _day_edtf(int(m[1]), m[2], int(m[3]))
    if m := re.fullmatch(rf"([a-z]+)\.?\s+(\d{{1,2}}){_ORD},?\s+(\d{{4}})", t):
        return _day_edtf(int(m[2]), m[1], int(m[3]))
    if m := re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", t):
        return _numeric_day(int(m[1]), int(m[2]), int(m[3]), t)
    if m := re.fullmatch(r"(\d{1,2})[/.](\d{4})", t):
        if not 1 <= int(m[1]) <= 12:
            raise FuzzyDateError(f"month {int(m[1])} does not exist")
        return f"{m[2]}-{int(m[1]):02d}"
    if context and (c := re.match(r"(\d{4})(?:-(\d{2}))?", context)):
        year = int(c[1])
        month = int(c[2]) if c[2] and 1 <= int(c[2]) <= 12 else None
        if m := re.fullmatch(r"(spring|summer|autumn|fall|winter)", t):
            return f"{year:04d}-{SEASONS[m[1]]}"
        if (m := re.fullmatch(r"([a-z]+)\.?", t)) and m[1] in MONTHS:
            return f"{year:04d}-{MONTHS[m[1]]:02d}"
        if m := re.fullmatch(rf"(\d{{1,2}}){_ORD}\s+(?:of\s+)?([a-z]+)\.?", t):
            return _day_edtf(int(m[1]), m[2], year)
        if m := re.fullmatch(rf"([a-z]+)\.?\s+(\d{{1,2}}){_ORD}", t):
            return _day_edtf(int(m[2]), m[1], year)
        if month is not None and (m := re.fullmatch(rf"(\d{{1,2}}){_ORD}", t)):
            return _day_edtf(int(m[1]), MONTH_NAMES[month - 1].lower(), year)
    raise _Unreadable(f"it is not a form of date we know. {EXAMPLES}")


def _month_number(name: str) -> int:
    month = MONTHS.get(name)
    if month is None:
        raise FuzzyDateError(f"'{name}' is not a month")
    return month


def _month_edtf(name: str, year: int) -> str:
    return f"{year:04d}-{_month_number(name):02d}"


def _day_edtf(day: int, name: str, year: int) -> str:
    month = _month_number(name)
    if not 1 <= day <= _days_in(year, month):
        raise FuzzyDateError(f"{MONTH_NAMES[month - 1]} {year} has no day {day}")
    return f"{year:04d}-{month:02d}-{day:02d}"


def _numeric_day(first: int, second: int, year: int, text: str) -> str:
    """20/04/2011 and 04/20/2011 are clear; 04/05/2011 could be 4 May or 5 April."""
    if first <= 12 and second <= 12 and first != second:
        raise _Ambiguous(
            f"'{text}' could be day-month or month-day ({first} {MONTH_NAMES[second - 1]} "
            f"or {second} {MONTH_NAMES[first - 1]}): give the date order (--date-order dmy "
            f'or mdy), or write the month as a word, e.g. "{first} {MONTH_NAMES[second - 1]} '
            f'{year}"'
        )
    day, month = (second, first) if second > 12 else (first, second)
    if not 1 <= month <= 12:
        raise FuzzyDateError(f"month {month} does not exist")
    return _day_edtf(day, MONTH_NAMES[month - 1].lower(), year)


# --- dates as registers write them ------------------------------------------------------------
#
# National registers write dates day-first or month-first, with month names and abbreviations
# in their own language, ordinals (1º), "early/mid/late" words, fortnights and "no date" words.
# A DateReading says how a file writes them; the default reads as above (English words only, an
# ambiguous numeric day refused). Where EDTF has no word for a form (early, mid, late, a
# fortnight) the date is stored as the period of its bounds, so earliest and latest are right:
#   early / mid / late of a year:  January-April / May-August / September-December
#   early / mid / late of a month: days 1-10 / 10-20 / 20-end (they overlap by a day, so that
#   every reading of "mid" or "late" is inside)
#   first / second fortnight:      days 1-15 / 16-end
# Every pattern below is a linear regex on at most MAX_LENGTH characters.

DATE_ORDERS = ("dmy", "mdy", "ymd")
LOCALES = ("es", "pt", "fr")
LANGUAGE_NAMES = {"es": "Spanish", "pt": "Portuguese", "fr": "French"}


@dataclass(frozen=True)
class DateReading:
    """How a source writes its dates: `order` of a numeric day (dmy, mdy, ymd or None: refuse
    an ambiguous one), the `locales` whose month names and words it uses (es, pt, fr), and the
    `century` of its two-digit years (19: 76 is 1976 and 24 is 1924; None: the latest year up
    to this one that ends in those digits)."""

    order: str | None = None
    locales: tuple[str, ...] = ()
    century: int | None = None
    # Columns written in another order than the file's: ("events.end_date", "mdy") pairs.
    columns: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        if self.order not in (None, "", *DATE_ORDERS):
            raise ValueError(f"date order must be one of {', '.join(DATE_ORDERS)}")
        unknown = [loc for loc in self.locales if loc not in LOCALES]
        if unknown:
            raise ValueError(f"unknown locale {unknown[0]!r}; known: {', '.join(LOCALES)}")
        if self.century is not None and not 1 <= self.century <= 99:
            raise ValueError("the century of two-digit years is from 1 to 99 (19 for 1900-1999)")
        for column, order in self.columns:
            if order not in DATE_ORDERS:
                raise ValueError(
                    f"{column}: date order must be one of {', '.join(DATE_ORDERS)}, not {order!r}"
                )
        object.__setattr__(self, "order", self.order or None)
        object.__setattr__(self, "locales", tuple(self.locales))
        object.__setattr__(self, "columns", tuple((c, o) for c, o in self.columns))

    @property
    def is_default(self) -> bool:
        return self.order is None and not self.locales and self.century is None and not self.columns

    def for_column(self, name: str) -> "DateReading":
        """The reading of the column `name` ("events.date"): the file's, in the column's own
        order where one is given."""
        order = dict(self.columns).get(name)
        return self if order is None else replace(self, order=order, columns=())


_LOCAL_MONTHS = {
    "es": (
        "enero ene",
        "febrero feb",
        "marzo mar",
        "abril abr",
        "mayo may",
        "junio jun",
        "julio jul",
        "agosto ago",
        "septiembre setiembre sep sept set",
        "octubre oct",
        "noviembre nov",
        "diciembre dic",
    ),
    "pt": (
        "janeiro jan",
        "fevereiro fev",
        "marco mar",
        "abril abr",
        "maio mai",
        "junho jun",
        "julho jul",
        "agosto ago",
        "setembro set",
        "outubro out",
        "novembro nov",
        "dezembro dez",
    ),
    "fr": (
        "janvier janv jan",
        "fevrier fevr fev",
        "mars mar",
        "avril avr",
        "mai",
        "juin",
        "juillet juil",
        "aout",
        "septembre sept sep",
        "octobre oct",
        "novembre nov",
        "decembre dec",
    ),
}
_LOCAL_UNKNOWN = {
    "es": ("s/f", "s/d", "sin fecha", "sin datos", "desconocida", "desconocido", "ignorada", "n/d"),
    "pt": ("s/d", "sem data", "desconhecida", "desconhecido", "ignorada", "n/d"),
    "fr": ("s/d", "sans date", "inconnue", "inconnu", "n/d", "non datee"),
}
# The words of a decade ("década del 70", "anos 70", "années 70"), for a refusal's hint.
_LOCAL_DECADES = {"es": "decada anos", "pt": "decada anos", "fr": "decennie annees"}
# Words before a date that say "early", "mid" or "late" (0, 1, 2), per language.
_LOCAL_PARTS = {
    "en": {
        0: r"early|beginning of|start of",
        1: r"mid|middle of|the middle of",
        2: r"late|end of|the end of",
    },
    "es": {
        0: r"(?:a )?(?:principios|comienzos|inicios|ppios\.?|pcpios\.?|ppio\.?|inicio|comienzo)",
        1: r"(?:a )?(?:mediados|med\.?)",
        2: r"(?:a )?(?:fines|finales|fin\.?|final)",
    },
    "pt": {
        0: r"(?:no )?(?:inicio|comeco|principio)s?",
        1: r"(?:em )?meados",
        2: r"(?:no )?(?:fim|fins|final|finais)",
    },
    "fr": {
        0: r"(?:au )?debut",
        1: r"(?:a la )?(?:mi|milieu)",
        2: r"(?:a la )?fin",
    },
}
_FORTNIGHT = {
    "en": (r"(?:1|first) (?:fortnight|half)", r"(?:2|second|last) (?:fortnight|half)"),
    "es": (r"(?:1|primera|pra\.?) quincena", r"(?:2|segunda|sda\.?|ultima) quincena"),
    "pt": (r"(?:1|primeira) quinzena", r"(?:2|segunda|ultima) quinzena"),
    "fr": (r"(?:1|premiere) quinzaine", r"(?:2|deuxieme|seconde|derniere) quinzaine"),
}
_YEAR_WORDS = r"(?:(?:en |no |em |durante )?(?:el |o |l'|l )?(?:ano|annee|year|an)(?: de)?)"
_LINK = r"(?:\s*(?:de|del|of|d'|du|do|da)\s*|\s*[/.,-]\s*|\s+)"
_RANGE_WORDS = re.compile(r"\s*[-–—]\s*|\s+(?:a|al|hasta|ate|au|to|until)\s+")
# A range said with words around it: "entre ... y ...", "de ... a ...", "du ... au ...".
_CONNECTIVE_START = re.compile(r"(?:entre|desde|de|del|du|from|between)\s+(.+)")
_CONNECTIVES = re.compile(r"\s+(?:y|e|et|and|a|al|hasta|ate|au|to|until|till)\s+|\s*[-–—]\s*")
# A year of four digits, or of two (see _full_year).
_YY = r"(\d{4}|\d{2})"
# Decades: "década del 70", "decada de los 70", "décennie 1970"; "años 70", "les années 70";
# "1970s", "the 70s", "'70s". The digits end in 0.
_DECADE_DIGITS = r"'?(\d{3}0|\d0)'?s?"
_DECADE_WORDS = re.compile(
    r"(?:(?:la|a|the)\s+)?(?:decada|decade|decennie)\s+(?:(?:de|del|dos|das|des|of)\s+)?"
    rf"(?:(?:los|las|os|the)\s+)?(?:(?:anos|annees)\s+)?{_DECADE_DIGITS}"
)
_DECADE_YEARS = re.compile(rf"(?:(?:los|les|os|nos|the)\s+)?(?:anos|annees)\s+{_DECADE_DIGITS}")
_DECADE_S = re.compile(r"(?:the\s+)?'?(\d{3}0|\d0)'?s")


def _fold(text: str) -> str:
    """Accents and ordinal marks off (1º -> 1, DICIEMBRE -> diciembre keeps its case)."""
    text = text.translate({ord("º"): None, ord("°"): None, ord("ª"): None})
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.cache
def _date_words(locale: str) -> frozenset[str]:
    """The month names and abbreviations, and the words of "no date", of one language."""
    months = {name for names in _LOCAL_MONTHS[locale] for name in names.split()}
    unknown = {w for u in _LOCAL_UNKNOWN[locale] for w in re.findall(r"[a-z]{3,}", u)}
    return frozenset(months | unknown | set(_LOCAL_DECADES[locale].split()))


def _locale_hint(text: str) -> str:
    """For a refused date holding a month or "no date" word of a language we can read: which
    `--locale` would read it, e.g. "; 'dic' is a month in Spanish: give --locale es"."""
    words = set(re.findall(r"[a-z]+", _fold(text).lower()))
    for word in sorted(words):
        known = [loc for loc in LOCALES if word in _date_words(loc)]
        if known:
            names = " or ".join(LANGUAGE_NAMES[loc] for loc in known)
            options = " or ".join(f"--locale {loc}" for loc in known)
            return f"; '{word}' is a word of dates in {names}: give the file's language ({options})"
    return ""


def _two_digit_hint(text: str) -> str:
    """For a refused date with a two-digit year or decade ("03/04/76", "MAR/76", "the 70s"):
    that a reading of the file's dates reads it, and how it reads the year."""
    t = text.lower().strip(" .,;")
    if not (
        re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2}", t)
        or re.fullmatch(r"(?:\d{1,2}[ /.-]+)?[a-z]+\.?[ /.-]+'?\d{2}", t)
        or _DECADE_S.fullmatch(t)
    ):
        return ""
    return (
        "; a two-digit year is read with the file's date order (--date-order dmy, mdy or "
        "ymd), as the latest year up to this one that ends in those digits (76: 1976), or in "
        "the century given (--century 19)"
    )


def _month_words(reading: DateReading) -> dict[str, int]:
    words = dict(MONTHS)
    for locale in reading.locales:
        for i, names in enumerate(_LOCAL_MONTHS[locale], start=1):
            words.update((name, i) for name in names.split())
    return words


def _read_register(t: str, reading: DateReading) -> FuzzyDate | None:
    """A date in the forms of `reading`, or None to read it as the default does."""
    t = t.strip(" .,;")
    unknown = {w for loc in reading.locales for w in _LOCAL_UNKNOWN[loc]}
    if t in unknown or t.rstrip(".") in unknown:
        return FuzzyDate("", None, None)
    # Ordinals after a day: 1º (folded to 1), 1er, 1ra, 2do, 1st...
    t = re.sub(r"\b(\d{1,2})(?:o|a|er|re|ere|ra|ro|do|da|st|nd|rd|th)\.?(?![a-z])", r"\1", t)
    months = _month_words(reading)
    if (edtf := _register_point(t, reading, months)) is not None:
        return _from_edtf(edtf)
    # "entre marzo y mayo de 1976", "de mars à mai 1976", "between 1975 and 1976".
    if m := _CONNECTIVE_START.fullmatch(t):
        if (found := _register_range(m[1], reading, months, _CONNECTIVES)) is not None:
            return found
    return _register_range(t, reading, months, _RANGE_WORDS)


def _register_range(
    t: str, reading: DateReading, months: dict[str, int], separators: re.Pattern
) -> FuzzyDate | None:
    """Two dates around a separator; the start may take its year from the end ("MAY-OCT/1977")."""
    for sep in separators.finditer(t):
        first, second = t[: sep.start()], t[sep.end() :]
        end = _register_point(second, reading, months)
        if end is None:
            continue
        start = _register_point(first, reading, months, year=end[:4])
        if start is None:
            continue
        low, high = start.split("/")[0], end.split("/")[-1]
        return _from_edtf(f"{low}/{high}")
    return None


def _full_year(digits: str, reading: DateReading) -> int:
    """A year as a register writes it. Two digits are read in the reading's century if it has
    one, else as the latest year up to this one that ends in them (76 -> 1976, 24 -> 2024): a
    register records what has happened."""
    if len(digits) != 2:
        return int(digits)
    if reading.century is not None:
        return reading.century * 100 + int(digits)
    this_year = date.today().year
    return this_year - (this_year - int(digits)) % 100


def _register_decade(t: str, reading: DateReading) -> str | None:
    """ "década del 70", "años 70", "anos 70", "les années 70", "1970s", "the 70s" -> 1970/1979."""
    m = _DECADE_WORDS.fullmatch(t) or _DECADE_YEARS.fullmatch(t) or _DECADE_S.fullmatch(t)
    if m is None or re.fullmatch(r"\d\d00", m[1]):
        return None  # "1900s" may be a decade or a century: the default reading refuses it
    start = _full_year(m[1], reading)
    return f"{start:04d}/{start + 9:04d}"


def _register_point(
    t: str, reading: DateReading, months: dict[str, int], year: str | None = None
) -> str | None:
    """One date as EDTF (a period for early/mid/late, fortnights and decades), or None."""
    t = t.strip(" .,;")
    if re.fullmatch(r"\d{4}", t):
        return t
    if m := re.fullmatch(rf"{_YEAR_WORDS}\s*{_YY}", t):
        return f"{_full_year(m[1], reading):04d}"
    if (decade := _register_decade(t, reading)) is not None:
        return decade
    locales = ("en", *reading.locales)
    for loc in locales:
        for half, pattern in enumerate(_FORTNIGHT[loc]):
            if m := re.fullmatch(rf"(?:{pattern}){_LINK}(.+)", t):
                month = _register_month(m[1], reading, months, year)
                if month is None:
                    continue
                y, mo = int(month[:4]), int(month[5:7])
                first, last = ((1, 15), (16, _days_in(y, mo)))[half]
                return f"{month}-{first:02d}/{month}-{last:02d}"
        for part, pattern in _LOCAL_PARTS[loc].items():
            if m := re.fullmatch(rf"(?:{pattern})(?:{_LINK}|-)(.+)", t):
                return _register_part(part, m[1], reading, months, year)
    return _register_month(t, reading, months, year) or _register_day(t, reading, months, year)


def _register_part(
    part: int, rest: str, reading: DateReading, months: dict[str, int], year: str | None
) -> str | None:
    rest = rest.strip(" .,;")
    if m := re.fullmatch(rf"(?:{_YEAR_WORDS}\s*)?{_YY}", rest):
        first, last = ((1, 4), (5, 8), (9, 12))[part]
        y = f"{_full_year(m[1], reading):04d}"
        return f"{y}-{first:02d}/{y}-{last:02d}"
    month = _register_month(rest, reading, months, year)
    if month is None:
        return None
    y, mo = int(month[:4]), int(month[5:7])
    first, last = ((1, 10), (10, 20), (20, _days_in(y, mo)))[part]
    return f"{month}-{first:02d}/{month}-{last:02d}"


def _register_month(
    t: str, reading: DateReading, months: dict[str, int], year: str | None
) -> str | None:
    """'nov/1976', 'noviembre de 1976', 'nov.' (with the year of the end of a range)."""
    t = t.strip(" .,;")
    if m := re.fullmatch(rf"([a-z]+)\.?(?:{_LINK}'?{_YY})?", t):
        if m[1] not in months or (m[2] is None and year is None):
            return None
        if m[2] and len(m[2]) == 2 and not re.search(r"[/.'-]|\bd", t[len(m[1]) :]):
            return None  # "march 20" is a day more likely than March 2020; "MAR/20" a month
        return f"{_full_year(m[2], reading) if m[2] else int(year):04d}-{months[m[1]]:02d}"
    return None


def _register_day(
    t: str, reading: DateReading, months: dict[str, int], year: str | None
) -> str | None:
    if m := re.fullmatch(rf"(\d{{1,2}}){_LINK}([a-z]+)\.?(?:{_LINK}'?{_YY})?", t):
        if m[2] not in months or (m[3] is None and year is None):
            return None
        y = _full_year(m[3], reading) if m[3] else int(year)
        return _day_edtf(int(m[1]), MONTH_NAMES[months[m[2]] - 1].lower(), y)
    if reading.order is None:
        return None
    if m := re.fullmatch(r"(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})", t):
        parts = (int(m[3]), int(m[2]), int(m[1]))  # day, month, year
    elif m := re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})", t):
        a, b = int(m[1]), int(m[2])
        if reading.order == "ymd":
            return None
        day, month = (a, b) if reading.order == "dmy" else (b, a)
        parts = (day, month, _full_year(m[3], reading))
    else:
        return None
    day, month, y = parts
    if not 1 <= month <= 12:
        raise FuzzyDateError(f"month {month} does not exist")
    return _day_edtf(day, MONTH_NAMES[month - 1].lower(), y)


# --- EDTF -> words ------------------------------------------------------------------------------


def _humanize(text: str) -> str | None:
    if text.startswith("[") and text.endswith("]"):
        return _describe_set(text[1:-1], "or")
    if text.startswith("{") and text.endswith("}"):
        return _describe_set(text[1:-1], "and")
    if "/" not in text:
        return _describe(text)
    start, end = text.split("/", 1)
    open_or_unknown = ("", "..")
    if start in open_or_unknown and end in open_or_unknown:
        return None
    if start in open_or_unknown:
        described = _describe(end)
        suffix = " (start unknown)" if start == "" else ""
        return f"before {described}{suffix}" if described else None
    if end in open_or_unknown:
        described = _describe(start)
        suffix = " (end unknown)" if end == "" else ""
        return f"after {described}{suffix}" if described else None
    return _describe_period(start, end)


def _describe_part(start: str, end: str) -> str | None:
    """The periods register words are stored as (see DateReading), said as those words were:
    "early 1976" (1976-01/1976-04), "late March 1976" (1976-03-20/1976-03-31), "first
    fortnight of March 1976", "the 1970s" (1970/1979)."""
    if (a := re.fullmatch(r"(\d{3})0", start)) and end == f"{a[1]}9":
        return _describe_core(f"{a[1]}X")
    a = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])(?:-(\d{2}))?", start)
    b = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])(?:-(\d{2}))?", end)
    if not a or not b or a[1] != b[1] or (a[3] is None) != (b[3] is None):
        return None
    year = int(a[1])
    if a[3] is None:
        words = {("01", "04"): "early", ("05", "08"): "mid", ("09", "12"): "late"}
        word = words.get((a[2], b[2]))
        return f"{word} {year}" if word else None
    if a[2] != b[2]:
        return None
    month = int(a[2])
    last = _days_in(year, month)
    days = (int(a[3]), int(b[3]))
    named = f"{MONTH_NAMES[month - 1]} {year}"
    words = {(1, 10): "early", (10, 20): "mid", (20, last): "late"}
    if days in words:
        return f"{words[days]} {named}"
    halves = {(1, 15): "first", (16, last): "second"}
    if days in halves:
        return f"{halves[days]} fortnight of {named}"
    return None


def _describe_period(start: str, end: str) -> str | None:
    """ "between March 2013 and October 2014"; the shared year or month is said once."""
    if (part := _describe_part(start, end)) is not None:
        return part
    first, second = _describe(start), _describe(end)
    if first is None or second is None:
        return None
    plain = r"(\d{4})-(0[1-9]|1[0-2])(?:-(\d{2}))?"
    a, b = re.fullmatch(plain, start), re.fullmatch(plain, end)
    if a and b and a[1] == b[1] and (a[3] is None) == (b[3] is None):
        year = str(int(a[1]))
        if a[3] and a[2] == b[2]:
            return f"between {int(a[3])} and {second}"
        return f"between {first.removesuffix(' ' + year)} and {second}"
    return f"between {first} and {second}"


def _describe_set(inner: str, conjunction: str) -> str | None:
    words = []
    for item in (piece.strip() for piece in inner.split(",")):
        if item.startswith(".."):
            described, pattern = _describe(item[2:]), "{} or earlier"
        elif item.endswith(".."):
            described, pattern = _describe(item[:-2]), "{} or later"
        elif ".." in item:
            low, high = (_describe(side) for side in item.split("..", 1))
            described = f"{low} to {high}" if low and high else None
            pattern = "{}"
        else:
            described, pattern = _describe(item), "{}"
        if described is None:
            return None
        words.append(pattern.format(described))
    if len(words) < 2:
        return words[0] if words else None
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def _describe(part: str) -> str | None:
    """One EDTF date (not a period or a list), as people say it; None if we cannot."""
    qualifier = part[-1] if part[-1:] in ("~", "?", "%") else ""
    core = part[:-1] if qualifier else part
    time_of_day = ""
    if "T" in core:
        core, _, clock = core.partition("T")
        time_of_day = f", {clock}"
    partly = ""
    if re.search(r"[~?%]", core):  # qualifiers on single components (EDTF level 2)
        marks = set(re.findall(r"[~?%]", core))
        approximate = bool(marks & {"~", "%"})
        uncertain = bool(marks & {"?", "%"})
        partly = (
            " (partly "
            + " and ".join(
                w for w, on in (("approximate", approximate), ("uncertain", uncertain)) if on
            )
            + ")"
        )
        core = re.sub(r"[~?%]", "", core)
    text = _describe_core(core)
    if text is None:
        return None
    text += time_of_day
    if qualifier == "~":
        text = f"about {text}"
    elif qualifier == "?":
        text = f"{text} (uncertain)"
    elif qualifier == "%":
        text = f"about {text} (uncertain)"
    return text + partly


def _describe_core(core: str) -> str | None:
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", core):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
        if 1 <= month <= 12 and 1 <= day <= _days_in(year, month):
            return f"{day} {MONTH_NAMES[month - 1]} {year}"
        return None
    if m := re.fullmatch(r"(\d{4})-(\d{2})(?:-XX)?", core):
        year, code = int(m[1]), int(m[2])
        if 1 <= code <= 12:
            return f"{MONTH_NAMES[code - 1]} {year}"
        if code in SEASON_NAMES and not m[0].endswith("XX"):
            return f"{SEASON_NAMES[code]} {year}"
        if code in HEMISPHERE_SEASONS:
            return HEMISPHERE_SEASONS[code].format(year=year)
        if code in PARTS_OF_YEAR:
            return PARTS_OF_YEAR[code].format(year=year)
        return None
    if m := re.fullmatch(r"(\d{4})(?:-XX){0,2}", core):
        return str(int(m[1]))
    if m := re.fullmatch(r"(\d{3})X(?:-XX){0,2}", core):
        decade = int(m[1]) * 10
        return f"{decade}–{decade + 9}" if decade % 100 == 0 else f"the {decade}s"
    if m := re.fullmatch(r"(\d{2})XX(?:-XX){0,2}", core):
        century = int(m[1]) * 100
        return f"{century}–{century + 99}"
    return None


# --- Django integration -------------------------------------------------------------------------

HELP_TEXT = (
    'EDTF (2011-04-20, 2011-21, ../2014-06) or words: "spring 2011", '
    '"between March 2013 and October 2014", "unknown".'
)


class FuzzyDateFormField(forms.CharField):
    """Accepts words or EDTF; cleans to canonical EDTF text ("" when unknown)."""

    def __init__(self, **kwargs):
        if not kwargs.get("help_text"):
            kwargs["help_text"] = HELP_TEXT
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return ""
        try:
            return to_edtf(value)
        except FuzzyDateError as exc:
            raise ValidationError(str(exc), code="invalid_fuzzy_date") from exc


class EDTFField(models.CharField):
    """EDTF text that sets two DateFields on its row to its earliest and latest possible day."""

    description = "Date in EDTF, with its earliest and latest possible day in two other fields"

    def __init__(self, *args, earliest_field: str, latest_field: str, **kwargs):
        self.earliest_field = earliest_field
        self.latest_field = latest_field
        kwargs.setdefault("max_length", 100)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["earliest_field"] = self.earliest_field
        kwargs["latest_field"] = self.latest_field
        if kwargs.get("max_length") == 100:
            del kwargs["max_length"]
        return name, path, args, kwargs

    def check(self, **kwargs):
        return [*super().check(**kwargs), *self._check_bound_fields()]

    def _check_bound_fields(self):
        if not hasattr(self, "model"):
            return []
        errors = []
        for option in ("earliest_field", "latest_field"):
            name = getattr(self, option)
            try:
                target = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                target = None
            if not isinstance(target, models.DateField) or isinstance(target, models.DateTimeField):
                errors.append(
                    checks.Error(
                        f"{option}='{name}' must name a DateField on {self.model.__name__}.",
                        obj=self,
                        id="fuzzydates.E001",
                    )
                )
        return errors

    def bounds(self, value: str) -> FuzzyDate:
        return FuzzyDate.from_edtf(value or "")

    def _derive(self, instance, value: str) -> None:
        fuzzy = self.bounds(value)
        setattr(instance, self.earliest_field, fuzzy.earliest)
        setattr(instance, self.latest_field, fuzzy.latest)

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        try:
            self.bounds(value)
        except FuzzyDateError as exc:
            raise ValidationError(str(exc), code="invalid_fuzzy_date") from exc

    def clean(self, value, model_instance):
        value = super().clean(value, model_instance)
        if model_instance is not None:
            self._derive(model_instance, value)
        return value

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        self._derive(model_instance, value)
        return value

    def formfield(self, **kwargs):
        help_text = " ".join(part for part in (str(self.help_text), HELP_TEXT) if part)
        return super().formfield(
            **{"form_class": FuzzyDateFormField, "help_text": help_text, **kwargs}
        )


def fuzzy_date_constraints(prefix: str, label: str) -> list[models.CheckConstraint]:
    """Row rules for `{prefix}` (EDTF text) with its `{prefix}_earliest` and `_latest` days."""
    earliest, latest = f"{prefix}_earliest", f"{prefix}_latest"
    return [
        models.CheckConstraint(
            condition=Q(**{f"{earliest}__isnull": True})
            | Q(**{f"{latest}__isnull": True})
            | Q(**{f"{earliest}__lte": F(latest)}),
            name=f"{label}_{prefix}_bounds_ordered",
            violation_error_message="The earliest possible day must not be after the latest.",
        ),
        models.CheckConstraint(
            condition=~Q(**{prefix: ""})
            | Q(**{f"{earliest}__isnull": True, f"{latest}__isnull": True}),
            name=f"{label}_{prefix}_unknown_has_no_bounds",
            violation_error_message="An unknown date has no bounds.",
        ),
    ]
