"""Path globs (C4, C5): ``*`` within a segment, ``**`` across segments; checked against
a slow reference matcher, and on inputs that make backtracking matchers crawl."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mock_pokee.domain.globs import PathGlob


def reference(pattern: list[str], path: list[str]) -> bool:
    """Plain recursive backtracking: obviously right, exponential, fine for tiny inputs."""
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(reference(rest, path[i:]) for i in range(len(path) + 1))
    segment = ".*".join(re.escape(piece) for piece in head.split("*"))
    return (
        bool(path)
        and re.fullmatch(segment, path[0], re.DOTALL) is not None
        and (reference(rest, path[1:]))
    )


def test_examples() -> None:
    messages = PathGlob.compile("/v1/sessions/*/messages")
    assert messages.matches("/v1/sessions/sess_1/messages")
    assert not messages.matches("/v1/sessions/sess_1/files/messages")
    assert not messages.matches("/v1/sessions//x/messages")
    under = PathGlob.compile("/v1/sessions/**")
    assert under.matches("/v1/sessions/a/b/c")
    assert under.matches("/v1/sessions")  # ``**`` matches no segment too
    assert PathGlob.compile("/v1/*/a*b*c").matches("/v1/x/aXbYc")
    assert not PathGlob.compile("/v1/*/a*b*c").matches("/v1/x/aXcYb")
    assert PathGlob.compile("/a/**/b/**/c").matches("/a/b/c")
    assert not PathGlob.compile("/a/**/b").matches("/a/x/c")
    assert not PathGlob.compile("/**/c/c").matches("/c")  # a run longer than the path
    assert not PathGlob.compile("/a*b*b").matches("/ab")  # pieces may not overlap
    assert not PathGlob.compile("/ab*bc").matches("/abc")
    assert not PathGlob.compile("/a/**/b/**").matches("/a/x/y")


@given(
    st.text(alphabet="ab*/", max_size=10).map(lambda p: p.replace("***", "**")),
    st.text(alphabet="ab/", max_size=10),
)
def test_agrees_with_the_reference(pattern: str, path: str) -> None:
    assert PathGlob.compile(pattern).matches(path) == reference(pattern.split("/"), path.split("/"))


def test_patterns_that_make_regexes_backtrack_still_answer() -> None:
    """Many stars against a long near-miss: greedy leftmost pieces answer at once."""
    pattern = PathGlob.compile("/" + "*a" * 40 + "*b")
    assert not pattern.matches("/" + "a" * 4000)
    deep = PathGlob.compile("/**/a/**/a/**/a/**/b")
    assert not deep.matches("/a" * 2000)
