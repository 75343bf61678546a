"""Conditional GET for detail responses: a strong ETag of the body, 304 when it is unchanged."""

import hashlib

from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import quote_etag


def with_etag(request, response):
    """Render `response`, tag it with a hash of its bytes, and answer `If-None-Match` with 304.

    Hashing the rendered body keeps the tag exact: anything that changes what the client would
    receive (a linked record renamed or unpublished, a new citation, JSON against CSV) changes it.
    """
    response.render()
    patch_vary_headers(response, ["Accept"])
    etag = quote_etag(hashlib.sha256(response.content).hexdigest())
    response["ETag"] = etag
    return get_conditional_response(request, etag=etag, response=response) or response
