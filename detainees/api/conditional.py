"""Conditional requests: a strong ETag of the detail body, 304 on reads, If-Match on writes."""

import hashlib
import re

from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import quote_etag
from rest_framework import status
from rest_framework.exceptions import APIException

from detainees.api.renderers import JSONRenderer

# An entity tag, strong or weak, and the comma-separated list `If-Match` holds (RFC 9110,
# 8.8.3): a tag may itself hold commas, so the list is read tag by tag, not split on commas.
ETAG = re.compile(r'(W/)?"[^"]*"')
ETAG_LIST = re.compile(r'\s*(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*\s*')


class PreconditionRequired(APIException):
    status_code = 428
    default_detail = (
        "Send If-Match with the ETag from your last GET of this record, so that no one else's "
        "change is overwritten."
    )
    default_code = "precondition_required"


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The record changed since you read it: GET it again, apply your change and resend it "
        "with the new ETag."
    )
    default_code = "precondition_failed"


def etag_for(content: bytes) -> str:
    return quote_etag(hashlib.sha256(content).hexdigest())


def json_etag(data) -> str:
    """The ETag a plain JSON GET of a record whose body is `data` answers with."""
    return etag_for(JSONRenderer().render(data, "application/json", {}))


def with_etag(request, response):
    """Render `response`, tag it with a hash of its bytes, and answer `If-None-Match` with 304.

    Hashing the rendered body keeps the tag exact: anything that changes what the client would
    receive (a linked record renamed or unpublished, a new citation, JSON against CSV) changes it.
    """
    response.render()
    patch_vary_headers(response, ["Accept"])
    etag = etag_for(response.content)
    response["ETag"] = etag
    return get_conditional_response(request, etag=etag, response=response) or response


def require_match(request, current: str) -> None:
    """Raise 428 without an ETag in `If-Match` (none, `*`, or not a quoted tag), 412 unless it
    names the record's current ETag.

    A weak form (`W/"..."`) of the tag is accepted: a proxy that compresses responses weakens
    the tags it passes on, yet the client read the same bytes.
    """
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        raise PreconditionRequired()
    if not ETAG_LIST.fullmatch(header):  # `If-Match: abc`: as good as none
        raise PreconditionRequired()
    tags = {tag.group(0).removeprefix("W/") for tag in ETAG.finditer(header)}
    if current not in tags:
        raise PreconditionFailed()
