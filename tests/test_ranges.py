"""F5's Range header without HTTP: strict syntax, huge and non-ASCII numbers, merging."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_pokee.domain.errors import RangeNotSatisfiable
from mock_pokee.domain.ranges import MAX_PARTS, RangePart, parse_range, satisfiable


@pytest.mark.parametrize(
    ("header", "spans"),
    [
        ("bytes=0-0", [(0, 0)]),
        ("bytes=2-5", [(2, 5)]),
        ("bytes=7-", [(7, 9)]),
        ("bytes=-3", [(7, 9)]),
        ("bytes=-30", [(0, 9)]),
        ("bytes=8-100", [(8, 9)]),
        ("BYTES = 1-1 , 3-3", [(1, 1), (3, 3)]),
        ("bytes=4-5,0-1", [(0, 1), (4, 5)]),  # sorted
        ("bytes=0-3,2-5,6-6", [(0, 6)]),  # overlapping and adjacent parts merged
        ("bytes=0-1,50-60", [(0, 1)]),  # the unsatisfiable part left out
        ("bytes=" + "9" * 5000 + "-,1-1", [(1, 1)]),
        ("bytes=0-" + "9" * 5000, [(0, 9)]),
        ("bytes=" + "0" * 5000 + "2-2", [(2, 2)]),
    ],
)
def test_spans_of_a_ten_byte_file(header: str, spans: list[tuple[int, int]]) -> None:
    assert satisfiable(parse_range(header, 10), 10) == spans


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",
        "bytes=-",
        "bytes=",
        "bytes",
        "items=0-1",
        "bytes=5-2",
        "bytes=²-3",  # a digit to str.isdigit, not to HTTP
        "bytes=0-٣",  # ARABIC-INDIC DIGIT THREE
        "bytes=1-2-3",
        "bytes=0-1,,2-3",
        "bytes=" + ",".join(["0-0"] * (MAX_PARTS + 1)),
    ],
)
def test_malformed_headers_are_416_naming_range_and_the_size(header: str) -> None:
    """F5: "416 Bad Range header", with Content-Range ``bytes */<size>``."""
    with pytest.raises(RangeNotSatisfiable, match="Range") as refused:
        parse_range(header, 10)
    assert refused.value.headers == {"Content-Range": "bytes */10"}


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=10-", 10),
        ("bytes=-0", 10),
        ("bytes=0-0", 0),
        ("bytes=-5", 0),
        ("bytes=" + "9" * 30 + "-", 5),
    ],
)
def test_unsatisfiable_is_416_with_the_size(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as refused:
        satisfiable(parse_range(header, 10), size)
    assert refused.value.headers == {"Content-Range": f"bytes */{size}"}


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=st.sampled_from([*"bytes=-,0123456789 ²x"]), max_size=40), st.integers(0, 50)
)
def test_any_header_is_refused_cleanly_or_gives_spans_inside_the_file(
    header: str, size: int
) -> None:
    """Every outcome is an A5 error or sorted, disjoint spans within the file."""
    try:
        spans = satisfiable(parse_range(header, 10), size)
    except RangeNotSatisfiable:
        return
    assert spans
    for (first, last), after in zip(spans, [*spans[1:], None], strict=True):
        assert 0 <= first <= last < size
        assert after is None or after[0] > last + 1


def test_as_many_parts_as_allowed_are_read() -> None:
    header = "bytes=" + ",".join(f"{n}-{n}" for n in range(0, 2 * MAX_PARTS, 2))
    assert len(satisfiable(parse_range(header, 10), 2 * MAX_PARTS)) == MAX_PARTS


def test_parts_keep_what_was_asked() -> None:
    assert parse_range("bytes=1-2,5-,-3", 10) == [
        RangePart(1, 2),
        RangePart(5, None),
        RangePart(None, 3),
    ]
