"""What a message asks for: its topic, how many slides or pages, where to write, and which
of the session's tools it wants (contract D).

Every function here runs in time linear in the message (plain string searches and
regular expressions without nested or adjacent unbounded repeats), because a turn reads
its message on the event loop and a 1 MiB message must not stall other requests. The
topic and the tool asked for are looked for in the first `HEAD_CHARS` characters only: a
request says what it is about early, and so the work is bounded whatever the message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mock_pokee.domain.tools import ClientTool

HEAD_CHARS = 4096
MAX_TOPIC_CHARS = 120
WORKSPACE = "/opt/sandbox/workspace/"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Where the subject ends and the instructions begin (searched lowercased).
_INSTRUCTIONS = (
    " and write",
    " and save",
    " and put",
    " and store",
    " and export",
    " and send",
    " and upload",
    ", write",
    ", save",
    ", then",
    " then ",
    "; ",
    ". ",
    "? ",
    "! ",
    "\n",
    " to /",
    " into /",
    " in /",
    " at /",
    " under /",
)
# Words that introduce the subject: "a deck on X", "a report about X".
_SUBJECT_AFTER = ("on", "about", "regarding", "covering", "concerning")
_SUBJECT_AFTER_WEAK = ("for", "of")
# Words a request starts with before its subject, when there is no "on"/"about".
_LEADING = _words(
    "research analyse analyze investigate write build create make prepare draft produce "
    "summarise summarize please can could you me us a an the short brief detailed full "
    "report deck presentation ppt pptx powerpoint slides slide pages page document doc "
    "memo"
)
_COUNTED = frozenset({"slide", "slides", "page", "pages", "section", "sections"})
_COUNT_LEADS = frozenset({"with", "in", "using", "across", "over", "of", "and", "at"})
_NUMBERS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen twenty"
)
_NUMBER_WORDS = {word: n for n, word in enumerate(_NUMBERS.split())}
_EDGE_PUNCTUATION = " \t.,;:!?\"'()[]{}`"
_PATH = re.compile(r"[^\s'\"`]*")
_SLUG_GAPS = re.compile(r"[^a-z0-9]+")
_WORDS = re.compile(r"[a-z0-9]+")
_NAME_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# Tool-name words too common to say what a tool does.
_GENERIC = _words(
    "get set list fetch find create update delete remove run call make add new do the and "
    "for with from into tool tools api data info by of to"
)
# Description words too common to say what a tool does (those of four letters or more:
# shorter ones never count there).
_COMMON = _GENERIC | _words(
    "this that these those what which when where your will given gets sets returns return "
    "uses using used about some each have there their them then than more most also only "
    "just like onto over under user users value values name names"
)


def topic_of(message: str) -> str:
    """The subject of the request without its instructions:
    ``"Research Q3 NVIDIA performance and write it to /opt/…/report.md"`` →
    ``"Q3 NVIDIA performance"``; ``"Build a 10-slide deck on tides"`` → ``"tides"``."""
    clause = _subject_clause(message[:HEAD_CHARS].strip())
    words = clause.split()
    lowered = [w.lower().strip(_EDGE_PUNCTUATION) for w in words]
    topic = _after_subject_word(words, lowered) or _without_leading_words(words, lowered)
    return _shorten(topic.strip(_EDGE_PUNCTUATION)) or "Untitled"


def _subject_clause(text: str) -> str:
    lowered = text.lower()
    end = len(text)
    for marker in _INSTRUCTIONS:
        at = lowered.find(marker)
        if 0 < at < end:
            end = at
    return text[:end]


def _after_subject_word(words: list[str], lowered: list[str]) -> str:
    for leads in (_SUBJECT_AFTER, _SUBJECT_AFTER_WEAK):
        for index, word in enumerate(lowered):
            if word in leads and index + 1 < len(words):
                return _before_count(words[index + 1 :], lowered[index + 1 :])
    return ""


def _without_leading_words(words: list[str], lowered: list[str]) -> str:
    start = 0
    while start < len(words) and (lowered[start] in _LEADING or _is_count(lowered, start)):
        start += 1
    return _before_count(words[start:], lowered[start:])


def _is_count(lowered: list[str], index: int) -> bool:
    """``10 slides``, ``ten pages``, ``10-slide``: a count of slides, pages or sections."""
    word = lowered[index]
    number, _, unit = word.partition("-")
    if unit:
        return _number(number) is not None and unit in _COUNTED
    return (
        _number(word) is not None
        and index + 1 < len(lowered)
        and lowered[index + 1].partition("-")[0] in _COUNTED
    )


def _before_count(words: list[str], lowered: list[str]) -> str:
    """The words up to a trailing count phrase (``… with 10 slides``)."""
    for index in range(len(words)):
        if _is_count(lowered, index):
            if index > 0 and lowered[index - 1] in _COUNT_LEADS:
                index -= 1
            return " ".join(words[:index])
    return " ".join(words)


def _shorten(topic: str) -> str:
    if len(topic) <= MAX_TOPIC_CHARS:
        return topic
    cut = topic[:MAX_TOPIC_CHARS]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(_EDGE_PUNCTUATION)


def _number(word: str) -> int | None:
    word = word.strip(_EDGE_PUNCTUATION)
    if word.isascii() and word.isdigit() and len(word) <= 6:
        return int(word)
    return _NUMBER_WORDS.get(word)


def requested_count(message: str) -> int | None:
    """N of "N slides" / "N pages" / "N sections" (digits or a word up to twenty)."""
    lowered = message[:HEAD_CHARS].lower().replace("-", " ").split()
    for index, word in enumerate(lowered[:-1]):
        number = _number(word)
        if number is not None and lowered[index + 1].strip(_EDGE_PUNCTUATION) in _COUNTED:
            return number
    return None


def slug_of(topic: str) -> str:
    """The topic in lowercase, dashes for anything else, at most 60 characters."""
    return _SLUG_GAPS.sub("-", topic.lower()).strip("-")[:60].strip("-") or "output"


def requested_path(message: str) -> str:
    """The workspace path the message asks to write to (``…/opt/sandbox/workspace/x.md``
    → ``x.md``), trailing punctuation left off; "" when it names none."""
    at = message.find(WORKSPACE)
    if at < 0:
        return ""
    match = _PATH.match(message, at + len(WORKSPACE))
    return match.group().rstrip(".,;:!?)") if match else ""


def asked_tool(
    tools: Sequence[ClientTool], message: str, *, descriptions: bool = False
) -> ClientTool | None:
    """The first of ``tools`` the message asks for: it names the tool, or a word of the
    tool's name that says what it does (``get_weather`` ← "what's the weather in Oslo").
    With ``descriptions`` (R8), failing that, the first whose description shares such a
    word with the message (``lookup`` described as "the time in a city" ← "what time is
    it in Oslo"). Like the topic, looked for in the first `HEAD_CHARS` characters of the
    message and of each description."""
    if not tools:
        return None
    lowered = message[:HEAD_CHARS].lower()
    words = set(_WORDS.findall(lowered))
    for tool in tools:
        if tool.name.lower() in lowered:
            return tool
        for part in _NAME_PARTS.findall(tool.name):
            if _shares(part.lower(), words, shortest=3, common=_GENERIC):
                return tool
    if descriptions:
        for tool in tools:
            described = _WORDS.findall(tool.description[:HEAD_CHARS].lower())
            if any(_shares(word, words, shortest=4, common=_COMMON) for word in described):
                return tool
    return None


def _shares(word: str, words: set[str], *, shortest: int, common: frozenset[str]) -> bool:
    """Whether ``word`` says what a tool does and is among ``words`` (plurals aside)."""
    if len(word) < shortest or word in common:
        return False
    return word in words or word + "s" in words or word.removesuffix("s") in words
