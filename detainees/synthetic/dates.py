"""Fuzzy dates for synthetic records: a true day, blurred to the precision a source gives it.

Bounds are computed here rather than parsed, because parsing a million EDTF texts would take
most of the load; the forms are few, and the tests check every one against
`FuzzyDate.from_edtf`. Seasons and "about" years, whose bounds follow the edtf package's
rules, are parsed once per distinct text.
"""

import calendar
from datetime import date
from functools import lru_cache

from detainees.domain.fuzzydates import FuzzyDate

# Every precision the domain brief names, plus "after" (an open end).
PRECISIONS = (
    "day",  # 2011-04-20
    "month",  # 2011-04
    "year",  # 2010
    "season",  # 2011-21, spring 2011
    "approximate",  # 2010~, about 2010
    "between",  # 2013-03/2014-10
    "before",  # ../2014-06
    "after",  # 2013-03/..
    "unknown",  # ""
)
SEASON_OF_MONTH = {12: 24, 1: 24, 2: 24, 3: 21, 4: 21, 5: 21, 6: 22, 7: 22, 8: 22}
SEASON_OF_MONTH.update({9: 23, 10: 23, 11: 23})


def _month(index: int) -> tuple[int, int]:
    return index // 12, index % 12 + 1


def _first(year: int, month: int) -> date:
    return date(year, month, 1)


def _last(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


@lru_cache(maxsize=4096)
def _parsed(edtf: str) -> tuple[date | None, date | None]:
    fuzzy = FuzzyDate.from_edtf(edtf)
    return fuzzy.earliest, fuzzy.latest


def blur(day: date, precision: str, spread: int = 0) -> tuple[str, date | None, date | None]:
    """EDTF text for `day` at `precision`, with its earliest and latest possible day.

    The result always contains `day`, so a period made of two blurred days never ends before
    it starts. `spread` (0..) widens periods and open ends by that many months.
    """
    y, m = day.year, day.month
    if precision == "day":
        return day.isoformat(), day, day
    if precision == "month":
        return f"{y:04d}-{m:02d}", _first(y, m), _last(y, m)
    if precision == "year":
        return f"{y:04d}", date(y, 1, 1), date(y, 12, 31)
    if precision in ("season", "approximate"):
        text = f"{y:04d}-{SEASON_OF_MONTH[m]}" if precision == "season" else f"{y:04d}~"
        earliest, latest = _parsed(text)
        if earliest <= day <= latest:
            return text, earliest, latest
        return blur(day, "month")
    index = y * 12 + m - 1
    if precision == "between":
        start, end = _month(index - 1 - spread % 9), _month(index + 1 + spread % 13)
        text = f"{start[0]:04d}-{start[1]:02d}/{end[0]:04d}-{end[1]:02d}"
        return text, _first(*start), _last(*end)
    if precision == "before":
        end = _month(index + spread % 7)
        return f"../{end[0]:04d}-{end[1]:02d}", None, _last(*end)
    if precision == "after":
        start = _month(index - spread % 7)
        return f"{start[0]:04d}-{start[1]:02d}/..", _first(*start), None
    if precision == "unknown":
        return "", None, None
    raise ValueError(f"unknown precision {precision!r}")
