"""The S6 filters: ``older_than`` and ``status`` parsing, and agreement with the OpenAPI."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_pokee.app import openapi_document
from mock_pokee.domain.errors import InvalidRequest
from mock_pokee.domain.filters import SessionFilter, parse_older_than, parse_status


def documented_older_than_pattern() -> re.Pattern[str]:
    operation = openapi_document()["paths"]["/v1/sessions"]["delete"]
    (filters,) = operation["parameters"]
    return re.compile(filters["schema"]["properties"]["older_than"]["pattern"])


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("5m", 300),
        ("1h30m", 5400),
        ("2h", 7200),
        ("1h1s", 3601),
        ("0", 0),
        ("5400", 5400),
        ("1m30s", 90),
    ],
)
def test_documented_examples(text: str, seconds: int) -> None:
    assert parse_older_than(text) == seconds


@given(
    st.one_of(st.none(), st.integers(0, 10_000)),
    st.one_of(st.none(), st.integers(0, 10_000)),
    st.one_of(st.none(), st.integers(0, 10_000)),
)
def test_any_h_m_s_combination_in_order_parses(h: int | None, m: int | None, s: int | None) -> None:
    parts = [f"{v}{unit}" for v, unit in ((h, "h"), (m, "m"), (s, "s")) if v is not None]
    if not parts:
        return
    expected = (h or 0) * 3600 + (m or 0) * 60 + (s or 0)
    assert parse_older_than("".join(parts)) == expected


@given(st.text(alphabet="0123456789hms -.dH٣", max_size=8))
def test_the_parser_and_the_openapi_pattern_agree(text: str) -> None:
    """Whatever the string, the server accepts it exactly when the document says it may."""
    if documented_older_than_pattern().fullmatch(text) is not None:
        assert parse_older_than(text) >= 0
    else:
        with pytest.raises(InvalidRequest, match="older_than"):
            parse_older_than(text)


def test_status_values() -> None:
    assert [parse_status(s) for s in ("idle", "busy", "any")] == ["idle", "busy", "any"]
    for bad in ("IDLE", "", "idle ", "all"):
        with pytest.raises(InvalidRequest, match="status"):
            parse_status(bad)


def test_a_filter_needs_at_least_one_condition() -> None:
    with pytest.raises(InvalidRequest, match="at least one filter"):
        SessionFilter.parse(None, None)
    with pytest.raises(
        InvalidRequest, match=r"\(e\.g\. \?status=idle&older_than=1h\); use status=any"
    ):
        SessionFilter.parse(None, None)
    assert SessionFilter(status="idle", older_than=60).describe() == {
        "status": "idle",
        "older_than": 60,
    }
    assert SessionFilter(older_than=60).describe() == {"older_than": 60}
    assert SessionFilter.parse("idle", None) == SessionFilter(status="idle")
    assert SessionFilter.parse(None, "1m") == SessionFilter(older_than=60)
