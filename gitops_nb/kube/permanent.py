"""Server errors that look transient (HTTP 500) but say the request itself is wrong.

The API server answers some invalid objects with a 500: server-side apply cannot build a
typed patch for an unknown field or a value of the wrong type, and an undecodable value
(invalid base64 in a Secret's ``data``) fails conversion. Retrying these changes nothing,
and a retried run reported as "transient, exit 3" hides a broken commit. Whatever matches
here is classified as invalid input instead.
"""

from __future__ import annotations

#: Largest request body sent; the API server refuses larger ones (3 MiB), and a far larger
#: one ends in a reset connection (an SSL error), which would read as an outage.
MAX_REQUEST_BYTES = 3 * 1024 * 1024

_INVALID_500 = (
    "failed to create typed patch object",
    "field not declared in schema",
    "failed to convert new object",
    "unable to convert unstructured object",
    "illegal base64 data",
    "cannot unmarshal",
)


def is_invalid_request(status: int, message: str) -> bool:
    """True when an error status means "fix the object", whatever its number says."""
    if status == 413:  # request entity too large
        return True
    return status == 500 and any(marker in message for marker in _INVALID_500)
