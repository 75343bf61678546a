"""Fuzzy dates: EDTF text with its earliest and latest possible day, and the words people use.

Almost no date in this domain is a plain day. We store the Library of Congress Extended
Date/Time Format (EDTF) text as entered, plus the earliest and latest day it can mean, so that
sorting and range filters run in the database. Researchers may type "spring 2011" or "between
March 2013 and October 2014"; `to_edtf` turns that into EDTF or says why it cannot. A date never
gains precision: "2010" stays a year, with bounds 1 January and 31 December.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from edtf import parse_edtf
from edtf.parser.edtf_exceptions import EDTFParseException

UNKNOWN_WORDS = {"", "unknown", "date unknown", "unknown date", "not known", "n/a", "?"}
MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
SEASONS = {"spring": 21, "summer": 22, "autumn": 23, "fall": 23, "winter": 24}
SEASON_NAMES = {21: "spring", 22: "summer", 23: "autumn", 24: "winter"}
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth"}
QUARTERS = {33: 1, 34: 2, 35: 3, 36: 4}
HALVES = {40: 1, 41: 2}
WORD_QUARTER = {"first": 33, "second": 34, "third": 35, "fourth": 36, "last": 36}
WORD_HALF = {"first": 40, "second": 41, "last": 41}


class FuzzyDateError(ValueError):
    """Raised with a sentence that says why a text is not a date we can store."""


@dataclass(frozen=True)
class FuzzyDate:
    edtf: str  # "" means unknown
    earliest: date | None  # None: open or unknown
    latest: date | None

    @classmethod
    def parse(cls, text: str) -> "FuzzyDate":
        return cls.from_edtf(to_edtf(text))

    @classmethod
    def from_edtf(cls, edtf: str) -> "FuzzyDate":
        edtf = (edtf or "").strip()
        if edtf == "":
            return cls("", None, None)
        if "/" in edtf:
            start, _, end = edtf.partition("/")
            earliest = _bound(start, edtf, lower=True)
            latest = _bound(end, edtf, lower=False)
        else:
            earliest = _bound(edtf, edtf, lower=True)
            latest = _bound(edtf, edtf, lower=False)
        if earliest and latest and earliest > latest:
            raise FuzzyDateError(
                f"'{edtf}' ends ({_day(latest)}) before it starts ({_day(earliest)})."
            )
        return cls(edtf, earliest, latest)

    @property
    def is_unknown(self) -> bool:
        return self.edtf == ""

    def display(self) -> str:
        return humanize(self.edtf)

    def __str__(self) -> str:
        return self.display()


def _day(d: date) -> str:
    return f"{d.day} {calendar.month_name[d.month]} {d.year}"


def _parse_part(part: str, whole: str):
    try:
        return parse_edtf(part)
    except (EDTFParseException, ValueError, TypeError) as exc:
        raise FuzzyDateError(_why_not_edtf(part, whole)) from exc


def _bound(part: str, whole: str, *, lower: bool) -> date | None:
    """The earliest (lower) or latest possible day of one side of an EDTF date."""
    if part in ("", ".."):
        return None
    parsed = _parse_part(part, whole)
    struct = parsed.lower_fuzzy() if lower else parsed.upper_fuzzy()
    try:
        return date(struct.tm_year, struct.tm_mon, struct.tm_mday)
    except (AttributeError, ValueError) as exc:
        raise FuzzyDateError(f"'{whole}' has no usable bounds.") from exc


def _why_not_edtf(part: str, whole: str) -> str:
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", part)
    if match:
        year, month, day = (int(g) if g else None for g in match.groups())
        if day is None and not (1 <= month <= 12 or 21 <= month <= 41):
            return f"'{whole}': month {month} does not exist."
        if day is not None:
            if not 1 <= month <= 12:
                return f"'{whole}': month {month} does not exist."
            return f"'{whole}': {calendar.month_name[month]} {year} has no day {day}."
    return f"'{whole}' is not a date we can read. {EXAMPLES}"


EXAMPLES = (
    'Try "20 April 2011", "April 2011", "2011", "spring 2011", "about 2010", '
    '"between March 2013 and October 2014", "before June 2014", "unknown", '
    "or EDTF such as 2011-04-20, 2011-21, ../2014-06."
)

_YEAR = r"(\d{4})"
_MONTH = r"([a-z]+)\.?"


def _single(text: str, *, default_year: int | None = None) -> str:
    """One point or period in words (no 'between', 'before'...), as EDTF."""
    t = text.strip().strip(",")
    t = re.sub(r"^(sometime |some time )?(in|during)\s+", "", t)
    t = re.sub(r"^the\s+", "", t)
    if t.startswith("sometime "):
        t = t[len("sometime ") :]
    for word in ("about ", "around ", "circa ", "approximately ", "c. ", "ca. ", "c ", "ca "):
        if t.startswith(word):
            inner = _single(t[len(word) :], default_year=default_year)
            if "/" in inner or inner.endswith(("~", "?", "%")):
                raise FuzzyDateError(f"'{text}': 'about' goes with a single date, like about 2010.")
            return inner + "~"
    if m := re.fullmatch(r"(early|mid|middle|late)[- ](\d{4}s?)", t):
        raise FuzzyDateError(
            f"'{text}' is too vague to store honestly. Say which part of the year: "
            f'"first half of {m.group(2)}", "spring {m.group(2)}", or '
            f'"between March and June {m.group(2)}".'
        )
    if m := re.fullmatch(rf"(spring|summer|autumn|fall|winter)(?: of)? {_YEAR}", t):
        return f"{m.group(2)}-{SEASONS[m.group(1)]}"
    if m := re.fullmatch(rf"(first|second|third|fourth|last) quarter(?: of)? {_YEAR}", t):
        return f"{m.group(2)}-{WORD_QUARTER[m.group(1)]}"
    if m := re.fullmatch(rf"q([1-4]) {_YEAR}", t):
        return f"{m.group(2)}-{32 + int(m.group(1))}"
    if m := re.fullmatch(rf"(first|second|last) half(?: of)? {_YEAR}", t):
        return f"{m.group(2)}-{WORD_HALF[m.group(1)]}"
    if m := re.fullmatch(r"(\d{3})0'?s", t):
        return f"{m.group(1)}X"
    if m := re.fullmatch(_YEAR, t):
        return t
    if m := re.fullmatch(rf"{_MONTH},? {_YEAR}", t):
        return _month(m.group(1), int(m.group(2)), text)
    if m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)? (?:of )?" + rf"{_MONTH},? {_YEAR}", t):
        return _day_edtf(int(m.group(1)), m.group(2), int(m.group(3)), text)
    if m := re.fullmatch(rf"{_MONTH} (\d{{1,2}})(?:st|nd|rd|th)?,? {_YEAR}", t):
        return _day_edtf(int(m.group(2)), m.group(1), int(m.group(3)), text)
    if default_year is not None:
        if m := re.fullmatch(_MONTH, t):
            return _month(m.group(1), default_year, text)
        if m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)? (?:of )?" + _MONTH, t):
            return _day_edtf(int(m.group(1)), m.group(2), default_year, text)
        if m := re.fullmatch(r"(spring|summer|autumn|fall|winter)", t):
            return f"{default_year}-{SEASONS[m.group(1)]}"
    raise FuzzyDateError(f"Could not read '{text}' as a date. {EXAMPLES}")


def _month(name: str, year: int, text: str) -> str:
    month = MONTHS.get(name)
    if month is None:
        raise FuzzyDateError(f"Could not read '{text}' as a date: '{name}' is not a month.")
    return f"{year:04d}-{month:02d}"


def _day_edtf(day: int, name: str, year: int, text: str) -> str:
    month_edtf = _month(name, year, text)
    month = int(month_edtf[5:])
    try:
        date(year, month, day)
    except ValueError as exc:
        raise FuzzyDateError(
            f"'{text}': {calendar.month_name[month]} {year} has no day {day}."
        ) from exc
    return f"{month_edtf}-{day:02d}"


def _year_of(text: str) -> int | None:
    m = re.search(r"(\d{4})", text)
    return int(m.group(1)) if m else None


def to_edtf(text: str) -> str:
    """Natural language or EDTF -> canonical EDTF ("" for unknown); FuzzyDateError if neither."""
    raw = (text or "").strip()
    t = re.sub(r"\s+", " ", raw.lower())
    if t in UNKNOWN_WORDS:
        return ""
    if re.fullmatch(r"[\dX./~?%\-]+", raw) and re.match(r"^(\.\.|/|\d|X)", raw):
        FuzzyDate.from_edtf(raw)  # raises with the reason
        return raw
    if m := re.fullmatch(r"(?:between|from) (.+?) (?:and|to|until|till) (.+)", t) or re.fullmatch(
        r"(.+?) (?:to|until|-|–) (.+)", t
    ):
        end = _single(m.group(2))
        start = _single(m.group(1), default_year=_year_of(m.group(2)))
        result = f"{start}/{end}"
        FuzzyDate.from_edtf(result)
        return result
    if m := re.fullmatch(r"(?:before|by|until|no later than|not after) (.+)", t):
        return f"../{_single(m.group(1))}"
    if m := re.fullmatch(r"(?:after|since|no earlier than|not before) (.+)", t):
        return f"{_single(m.group(1))}/.."
    result = _single(t)
    FuzzyDate.from_edtf(result)
    return result


def _describe(part: str) -> str:
    """One side of an EDTF date, as people say it."""
    qualifier = part[-1] if part[-1:] in "~?%" else ""
    core = part[:-1] if qualifier else part
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", core):
        text = f"{int(m.group(3))} {calendar.month_name[int(m.group(2))]} {m.group(1)}"
    elif (m := re.fullmatch(r"(\d{4})-(\d{2})", core)) and 1 <= int(m.group(2)) <= 12:
        text = f"{calendar.month_name[int(m.group(2))]} {m.group(1)}"
    elif m and int(m.group(2)) in SEASON_NAMES:
        text = f"{SEASON_NAMES[int(m.group(2))]} {m.group(1)}"
    elif m and int(m.group(2)) in QUARTERS:
        text = f"{ORDINALS[QUARTERS[int(m.group(2))]]} quarter of {m.group(1)}"
    elif m and int(m.group(2)) in HALVES:
        text = f"{ORDINALS[HALVES[int(m.group(2))]]} half of {m.group(1)}"
    elif re.fullmatch(r"\d{3}X", core):
        text = f"the {core[:3]}0s"
    elif re.fullmatch(r"\d{4}", core):
        text = core
    else:
        return part
    if qualifier == "~":
        return f"about {text}"
    if qualifier == "?":
        return f"{text} (uncertain)"
    if qualifier == "%":
        return f"about {text} (uncertain)"
    return text


def humanize(edtf: str) -> str:
    """Display wording for stored EDTF; falls back to the raw text, never raises."""
    edtf = (edtf or "").strip()
    if not edtf:
        return "date unknown"
    if "/" not in edtf:
        return _describe(edtf)
    start, _, end = edtf.partition("/")
    if start == ".." and end not in ("", ".."):
        return f"before {_describe(end)}"
    if end == ".." and start not in ("", ".."):
        return f"after {_describe(start)}"
    if start == "" and end:
        return f"by {_describe(end)} (start unknown)"
    if end == "" and start:
        return f"from {_describe(start)} (end unknown)"
    if start and end and start != ".." and end != "..":
        return f"between {_describe(start)} and {_describe(end)}"
    return edtf


# --- Django integration -------------------------------------------------------------------------

HELP_TEXT = (
    'Words ("20 April 2011", "spring 2011", "between March 2013 and October 2014", '
    '"before June 2014", "unknown") or EDTF (2011-04-20, 2011-21, ../2014-06).'
)


class FuzzyDateFormField(forms.CharField):
    """Accepts words or EDTF and cleans to canonical EDTF text."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", HELP_TEXT)
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return to_edtf(value)
        except FuzzyDateError as exc:
            raise ValidationError(str(exc), code="invalid_fuzzy_date") from exc


class EDTFField(models.CharField):
    """EDTF text that keeps two DateFields on the row set to its earliest and latest day."""

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

    def _derive(self, instance, value: str) -> None:
        fuzzy = FuzzyDate.from_edtf(value or "")
        setattr(instance, self.earliest_field, fuzzy.earliest)
        setattr(instance, self.latest_field, fuzzy.latest)

    def clean(self, value, model_instance):
        value = super().clean(value, model_instance)
        try:
            if model_instance is not None:
                self._derive(model_instance, value)
            else:
                FuzzyDate.from_edtf(value or "")
        except FuzzyDateError as exc:
            raise ValidationError(str(exc), code="invalid_fuzzy_date") from exc
        return value

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        self._derive(model_instance, value)
        return value

    def formfield(self, **kwargs):
        kwargs.setdefault("form_class", FuzzyDateFormField)
        return super().formfield(**kwargs)


def fuzzy_date_constraints(prefix: str, label: str) -> list[models.CheckConstraint]:
    """Row rules for an EDTF text with its `_earliest` and `_latest` columns."""
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
