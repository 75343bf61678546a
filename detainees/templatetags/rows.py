"""`{% load rows %}`: the rows of the public lists, built in Python in one pass.

A list page draws up to 200 rows; through the template engine each row costs a few dozen
variable lookups, filters and escapes, which made the page several times slower than its own
queries. Each tag here writes exactly what its reference template writes (named in the tag's
docstring: the same markup, whitespace and escaping), and tests/test_fast_html.py renders both
over rows of every kind and compares them byte for byte, so a change to one that is not made to
the other fails.
"""

from django import template
from django.utils.safestring import SafeString, mark_safe

from detainees.templatetags.fuzzydates import fuzzydate
from detainees.templatetags.tracker import escaped as esc
from detainees.templatetags.tracker import person_name, status_label

register = template.Library()

# A missing attribute: `{{ x.missing }}` writes string_if_invalid (nothing); in `{% if %}` it is
# None.
MISSING = ""


def _fuzzy_cell(value) -> str:
    return "—" if value is None else esc(fuzzydate(value))


PERSON_ROW = (
    "\n        <tr>\n"
    '          <th scope="row"><a href="{url}"{unnamed}>{name}</a></th>\n'
    '          <td data-label="Status">{status}</td>\n'
    '          <td data-label="First capture">{first}</td>\n'
    '          <td data-label="Last release">{last}</td>\n'
    "        </tr>\n      "
)
NOBODY = '\n        <tr><td colspan="4">Nobody matches these filters.</td></tr>\n      '


@register.simple_tag
def person_rows(rows) -> SafeString:
    """The people list's rows; reference: templates/detainees/_person_rows.html."""
    if not rows:
        return mark_safe(NOBODY)  # a constant
    out = []
    for person in rows:
        out.append(
            PERSON_ROW.format(
                url=esc(person.get_absolute_url()),
                unnamed=' class="unnamed"' if getattr(person, "unnamed", MISSING) else "",
                name=esc(person_name(person)),
                status=esc(status_label(getattr(person, "current_status", MISSING))),
                first=_fuzzy_cell(getattr(person, "first_capture_date", None)),
                last=_fuzzy_cell(getattr(person, "last_release_date", None)),
            )
        )
    return mark_safe("".join(out))  # every value above escaped by esc()


# --- The marks after each fact on a record's page -----------------------------------------------

CLAIM_WORDS = {
    "inferred": "Inferred, not stated by a source",
    "disputed": "Disputed: sources disagree",
    "retracted": "Retracted",
    "reported": "Reported",
}


@register.simple_tag
def claim_mark(status, show_confirmed=False) -> SafeString:
    """How sure the record is of one fact; reference: templates/detainees/_claim_mark.html
    (`{% include ... with status=... show_confirmed=... only %}`)."""
    if (status and status != "confirmed") or (status == "confirmed" and show_confirmed):
        code = esc(status)
        words = CLAIM_WORDS.get(status, "Confirmed")
        return mark_safe(  # the code escaped, the words constants
            f' <a class="claim-link" href="#claim-{code}">'
            f'<span class="claim claim-{code}">{words}</span></a>'
        )
    return mark_safe("")


@register.simple_tag
def footnote_refs(notes, anchor) -> SafeString:
    """A fact's note numbers, each with the id its note links back to; reference:
    templates/detainees/_footnote_refs.html (`{% include ... with notes=... anchor=... only %}`)."""
    if not notes:
        return mark_safe('<span class="unsourced">(no public source)</span>')  # a constant
    anchor = esc(anchor)
    refs = []
    for n in notes:
        n = esc(n)
        refs.append(
            f'<sup class="fn"><a href="#note-{n}" id="ref-{n}-{anchor}" aria-label="Note {n}">'
            f"{n}</a></sup>"
        )
    return mark_safe(  # every value escaped by esc()
        '<span class="fns">' + '<sup class="fn-sep">,</sup>'.join(refs) + "</span>"
    )
