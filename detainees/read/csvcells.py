"""CSV formula injection (OWASP "CSV Injection"): one rule for every CSV the project writes.

A spreadsheet opening a CSV runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and
some treat a leading tab or carriage return the same way), so a name such as
`=HYPERLINK("http://...")` would become a live link in a reader's spreadsheet. Such a text
cell is written with a single quote `'` in front, which spreadsheets read as "this is text".

Only text is changed: numbers (int, float, Decimal) and dates are not text and are written as
they are, so a longitude of -58.4 stays -58.4. Writers must hand numbers over as numbers.

So that a reader can undo it exactly, a text cell that already starts with quotes followed by
one of those characters (`'=x`) gets one more quote too; `strip_csv_guard` removes exactly
one leading quote from any cell that starts with quotes followed by one of them, and the data
package importer applies it to the packages this project writes. A name like `'Abd al-Rahman`
(a quote followed by a letter) is never changed in either direction.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"
# The data package descriptor's property saying its CSVs' text cells carry the guard.
CSV_GUARD_PROPERTY = "csvFormulaGuard"


def _guarded(text: str) -> bool:
    return text.lstrip(GUARD).startswith(FORMULA_STARTS)


# The first characters of a text `_guarded` may be true of: most cells start otherwise, and are
# passed on after one look at their first character.
SUSPECT_FIRST = frozenset((GUARD, *FORMULA_STARTS))


def csv_cell(value):
    """`value` as a CSV writer should get it: text that a spreadsheet would run is quoted."""
    if isinstance(value, str) and value[:1] in SUSPECT_FIRST and _guarded(value):
        return GUARD + value
    return value


def strip_csv_guard(text: str) -> str:
    """The text `csv_cell` was given, from what it returned."""
    if text.startswith(GUARD) and _guarded(text):
        return text[1:]
    return text
