"""Streamed downloads that either start honestly or fail loudly.

`download()` builds every StreamingHttpResponse the project sends (`/people.csv`,
`/events.csv`, `/api/v1/export.jsonl`):

- Its first chunk is produced before the response is returned, so the first database read
  happens while the status can still change: a database outage at the start is a 503
  (`tracker.outage`), not a 200 with an empty or cut body.
- A failure after that is logged and re-raised. The server has sent the status already, so it
  closes the connection without the terminating zero-length chunk of chunked transfer
  encoding: an HTTP/1.1 client reports an incomplete body instead of a clean end.
- The response is `Cache-Control: no-store`: a stream is complete only if it ended, and no
  cache can tell, so none keeps it.
"""

from __future__ import annotations

import logging
from itertools import chain

from django.http import StreamingHttpResponse

logger = logging.getLogger("tracker.streaming")


def started(chunks, what: str):
    """`chunks` with its first item already computed (any error in it is raised here)."""
    chunks = iter(chunks)
    try:
        first = next(chunks)
    except StopIteration:
        return iter(())
    return _logged(chain([first], chunks), what)


def _logged(chunks, what: str):
    try:
        yield from chunks
    except Exception:
        logger.exception("%s stopped part-way; the body is left incomplete", what)
        raise


def download(chunks, *, content_type: str, filename: str, disposition: str = "attachment"):
    """A streamed download of `chunks` (strings or bytes), started and marked no-store."""
    response = StreamingHttpResponse(started(chunks, filename), content_type=content_type)
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
