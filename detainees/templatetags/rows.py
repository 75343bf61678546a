"""`{% load rows %}`: the rows of the public lists, and the parts a record's page repeats for
every fact (claim marks, note numbers, the notes), built in Python in one pass.

A list page draws up to 200 rows; through the template engine each row costs a few dozen
variable lookups, filters and escapes, which made the page several times slower than its own
queries, and a person page rendered two includes for every fact. Each tag here writes exactly what its reference template writes (named in the tag's
docstring: the same markup, whitespace and escaping), and tests/test_fast_html.py renders both
over rows of every kind and compares them byte for byte, so a change to one that is not made to
the other fails.
"""

from django import template
from django.template.defaultfilters import capfirst
from django.template.defaultfilters import date as date_filter
from django.utils.safestring import SafeString, mark_safe

from detainees.templatetags.fuzzydates import as_written, fuzzydate
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


# --- Lists of events ----------------------------------------------------------------------------


def _subject_links(subjects) -> str:
    return ", ".join(
        f'<a href="{esc(role.person.get_absolute_url())}">{esc(person_name(role.person))}</a>'
        for role in subjects
    )


def _event_who(event) -> str:
    """What templates/detainees/_event_who.html writes for `event`."""
    subjects = event.public_subjects
    # Read as tuples for the events list (detainees.read.listed_events), else prefetched.
    organizations = getattr(event, "listed_organizations", None)
    if organizations is None:
        organizations = list(event.organizations.all())
    if not (subjects or organizations):
        return "\n\n"  # the line ends of the template's comment and of its last line
    who = ""
    if subjects:
        who = f'<li><span class="event-who-label">Who:</span> {_subject_links(subjects)}</li>'
    links = []
    for link in organizations:
        if link.role == "group":
            label = "Group acted for" if event.kind == "reengagement" else "Target group"
        else:
            label = esc(link.get_role_display())
        links.append(
            f'<li><span class="event-who-label">{label}:</span> '
            f'<a href="{esc(link.organization.get_absolute_url())}">'
            f"{esc(link.organization.name)}</a></li>"
        )
    return f'\n\n<ul class="event-who">\n  {who}\n  {"".join(links)}\n</ul>\n\n'


def _event_sources(event) -> str:
    """Each source of the event once, in the prefetch's order (by source: `{% ifchanged %}`)."""
    items, last = [], object()
    citations = getattr(event, "listed_citations", None)
    for citation in event.citations.all() if citations is None else citations:
        if citation.source_id != last:
            source = citation.source
            items.append(
                f'<li><a href="{esc(source.get_absolute_url())}">'
                f"{esc(source.reference_number or source.title)}</a></li>"
            )
        last = citation.source_id
    return "".join(items) or "<li>—</li>"


def _place_link(place) -> str:
    return f'<a href="{esc(place.get_absolute_url())}">{esc(place.name)}</a>'


EVENT_LIST_ROW = (
    "\n        <tr>\n"
    "          <td>{date}</td>\n"
    '          <th scope="row">{summary}{who}</th>\n'
    "          <td>{place}</td>\n"
    '          <td><ul class="event-sources">{sources}</ul></td>\n'
    "        </tr>\n      "
)
NO_EVENT = '\n        <tr><td colspan="4">No event matches these filters.</td></tr>\n      '


@register.simple_tag
def event_list_rows(rows) -> SafeString:
    """The events list's rows; reference: templates/detainees/_event_list_rows.html."""
    if not rows:
        return mark_safe(NO_EVENT)  # a constant
    out = []
    for event in rows:
        place = event.place
        if place and place.is_published:
            where = _place_link(place)
            parent = place.parent
            if parent and parent.kind != "country":
                where += f", {esc(parent.name)}"
        else:
            where = "—"
        out.append(
            EVENT_LIST_ROW.format(
                date=esc(fuzzydate(event.date)) + esc(as_written(event.date_as_written)),
                summary=esc(event.summary or event.get_kind_display()),
                who=_event_who(event),
                place=where,
                sources=_event_sources(event),
            )
        )
    return mark_safe("".join(out))  # every value escaped by esc()


EVENT_TABLE_ROW = (
    "\n    <tr><td>{date}</td>\n"
    "      <td>{what}</td>\n"
    "      <td>{people}</td>\n"
    "      <td>{place}</td></tr>\n  "
)


@register.simple_tag
def event_table_rows(events) -> SafeString:
    """The rows of a record page's table of events; reference:
    templates/detainees/_event_table_rows.html."""
    out = []
    for e in events:
        date = esc(fuzzydate(e.date)) + esc(as_written(e.date_as_written))
        if e.kind == "custody":
            date += f" – {esc(fuzzydate(e.end_date))}{esc(as_written(e.end_date_as_written))}"
        what = esc(e.get_kind_display())
        if e.summary:
            what += f": {esc(e.summary)}"
        if e.claim_status == "inferred":
            what += ' <span class="claim claim-inferred">Inferred</span>'
        people = _subject_links(e.public_subjects) or "—"
        if e.unnamed_count:
            people += f" (+{esc(e.unnamed_count)} unnamed)"
        place = _place_link(e.place) if e.place and e.place.is_published else "—"
        out.append(EVENT_TABLE_ROW.format(date=date, what=what, people=people, place=place))
    return mark_safe("".join(out))  # every value escaped by esc()


# --- A person page's notes ----------------------------------------------------------------------


def _note(note, host: str) -> str:
    source = note.source
    quote = f"<blockquote>“{esc(note.quote)}”</blockquote>" if note.quote else ""
    said = f"{esc(note.attribution)}, in: " if note.attribution else ""
    title = esc(source.title)
    if source.url:
        title = f'<a href="{esc(source.url)}" class="source-link">{title}</a>'
    where = ""
    publisher = source.publisher
    if publisher and publisher.is_published:
        where += f", {esc(publisher.name)}"
    if source.published:
        where += (
            f", {esc(fuzzydate(source.published))}{esc(as_written(source.published_as_written))}"
        )
    if note.locator:
        where += f", {esc(note.locator)}"
    if source.archived_url:
        where += f'; <a href="{esc(source.archived_url)}" class="source-link">archived copy</a>'
    if note.accessed_on:
        where += f"; accessed {esc(date_filter(note.accessed_on, 'j F Y'))}"
    url = esc(source.get_absolute_url())
    backlinks = note.backlinks
    if backlinks:
        links = ",".join(
            f' <a href="#{esc(anchor)}" aria-label="Back to {esc(label)}" '
            f'title="{esc(capfirst(label))}">{esc(letter)}</a>'
            for letter, anchor, label in backlinks
        )
        backlinks = (
            '<p class="backlinks"><span aria-hidden="true">↩</span> '
            f'<span class="visually-hidden">Supports:</span>{links}</p>'
        )
    else:
        backlinks = ""
    return (
        f'\n      <li id="note-{esc(note.number)}" tabindex="-1">\n        {quote}\n'
        f"        <p>{said}<cite>{title}</cite>{where}. "
        f'<a href="{url}" class="all-facts" data-print-url="{host}{url}">'
        f"All facts from this source</a></p>\n"
        f"        {backlinks}\n      </li>\n    "
    )


@register.simple_tag(takes_context=True)
def source_notes(context, footnotes) -> SafeString:
    """A person page's numbered notes; reference: templates/detainees/_source_notes.html."""
    request = context.get("request")
    host = f"{esc(request.scheme)}://{esc(request.get_host())}" if request else "://"
    return mark_safe("".join(_note(note, host) for note in footnotes))  # escaped by esc()
