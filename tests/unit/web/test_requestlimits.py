"""web.requestlimits.headers_fit answers from the WSGI environ what werkzeug's headers say:
every field within MAX_HEADER_FIELD bytes and at most MAX_HEADER_FIELDS of them."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import EnvironHeaders

from web.requestlimits import MAX_HEADER_FIELD, MAX_HEADER_FIELDS, headers_fit

KEYS = st.sampled_from(
    ["HTTP_HOST", "HTTP_X_A", "HTTP_AUTHORIZATION", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"]
    + ["CONTENT_TYPE", "CONTENT_LENGTH", "SERVER_NAME", "PATH_INFO", "HTTP_X_\\xdf", "HTTP_"]
)
# Values around the limit, measured with the name "X-A" (3) and ": " (2).
LENGTHS = st.sampled_from([0, 1, 10, MAX_HEADER_FIELD - 20, MAX_HEADER_FIELD - 5, MAX_HEADER_FIELD])


def reference(environ: dict[str, Any]) -> bool:
    """What check_request_size reads through `request.headers`."""
    headers = list(EnvironHeaders(environ).items())
    if len(headers) > MAX_HEADER_FIELDS:
        return False
    return all(len(name) + len(value) + 2 <= MAX_HEADER_FIELD for name, value in headers)


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(KEYS.map(lambda key: key.replace("\\xdf", "\xdf")), LENGTHS, max_size=8),
    st.integers(0, MAX_HEADER_FIELDS + 2),
)
def test_headers_fit_as_werkzeugs_headers_say(fields: dict[str, int], extra: int) -> None:
    environ: dict[str, Any] = {key: "v" * length for key, length in fields.items()}
    environ.update({f"HTTP_X_EXTRA_{n}": "e" for n in range(extra)})
    fits = headers_fit(environ)
    if all(key.isascii() for key in environ):
        assert fits == reference(environ)
    else:  # unsure: the caller reads werkzeug's headers itself
        assert not fits


def test_a_field_one_byte_over_does_not_fit() -> None:
    name = "HTTP_X_A"  # X-A
    at_limit = {name: "v" * (MAX_HEADER_FIELD - 5)}
    assert headers_fit(at_limit) and reference(at_limit)
    over = {name: "v" * (MAX_HEADER_FIELD - 4)}
    assert not headers_fit(over) and not reference(over)
