"""What the recorder takes out of what it writes (mock_pokee/recording/redact.py): keys
first, then the rules of a ``--redact`` file in order; a file it cannot search is refused
rather than passed on."""

from __future__ import annotations

import io
import threading
import zipfile
from pathlib import Path

import pytest

from mock_pokee.recording.redact import (
    REDACTED,
    REDACTED_KEY,
    RedactionRulesError,
    Redactor,
    load_rules,
    parse_rules,
)

KEY = "pk_acme_0123456789abcdef"


def rules(*items: object) -> Redactor:
    return Redactor(parse_rules(list(items), "<test>"))


def test_a_rules_file_holds_patterns_and_mappings(tmp_path: Path) -> None:
    path = tmp_path / "redact.yaml"
    path.write_text(
        "# customers and tokens\n"
        "- 'acme'\n"
        "- pattern: 'token=\\w+'\n"
        "- pattern: '(card )\\d+'\n"
        "  replace: '\\1****'\n",
        encoding="utf-8",
    )
    loaded = load_rules(path)
    assert [(rule.pattern.pattern, rule.replace) for rule in loaded] == [
        ("acme", REDACTED),
        (r"token=\w+", REDACTED),
        (r"(card )\d+", r"\1****"),
    ]
    redactor = Redactor(loaded)
    assert redactor.text("acme token=abc card 4242") == "[redacted] [redacted] card ****"
    assert redactor.changed == [1, 1, 1]
    from_file = Redactor.from_file(path, secrets=[KEY])
    assert from_file.text(f"acme {KEY}") == f"{REDACTED} {REDACTED_KEY}"
    assert Redactor.from_file(None).rules == ()


def test_an_empty_rules_file_holds_no_rules(tmp_path: Path) -> None:
    path = tmp_path / "redact.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert load_rules(path) == ()


NOT_A_STRING = "is not a string but {} (quote it)"
NOT_A_RULE = (
    "a list, not a pattern or a mapping {pattern, replace} "
    "(quote a pattern that YAML reads as something else, such as one in [ ])"
)
BAD_RULES_FILES = {
    "a: 1\n": "not a list of rules (the file holds a mapping)",
    "just text\n": "not a list of rules (the file holds a str)",
    "- x\n- {pattern: y, with: z}\n": "rule 2: unknown key 'with' (a rule has pattern and replace)",
    "- {replace: z}\n": "rule 1: no pattern",
    "- {pattern: 5}\n": "rule 1: pattern " + NOT_A_STRING.format("a number"),
    "- {pattern: x, replace: no}\n": "rule 1: replace " + NOT_A_STRING.format("a boolean"),
    "- x\n- [abc]\n": "rule 2: " + NOT_A_RULE,
    "- '('\n": "rule 1: not a regular expression: missing ), unterminated subpattern at position 0",
    "- {pattern: '(a)', replace: '\\2'}\n": "rule 1: replace '\\\\2': "
    "invalid group reference 2 at position 1",
    "- {pattern: a, replace: '\\g<x>'}\n": "rule 1: replace '\\\\g<x>': unknown group name 'x'",
    "- ''\n": "rule 1: the pattern is empty",
    "- x\n- 'x*'\n": "rule 2: the pattern 'x*' matches the empty string",
    "- '^'\n": "rule 1: the pattern '^' matches the empty string",
    '- {pattern: a, replace: "\\ud800"}\n': "rule 1: replace '\\ud800' holds a lone surrogate, "
    "which is not text",
}


@pytest.mark.parametrize(("content", "reason"), BAD_RULES_FILES.items())
def test_a_bad_rules_file_is_refused_naming_file_rule_and_reason(
    tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "redact.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RedactionRulesError) as refused:
        load_rules(path)
    assert str(refused.value) == f"{path}: {reason}"


def test_a_file_that_is_no_yaml_or_missing_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "redact.yaml"
    path.write_text("- 'a'\n- {pattern: [\n", encoding="utf-8")
    with pytest.raises(RedactionRulesError) as refused:
        load_rules(path)
    assert str(refused.value) == (
        f"{path}: not YAML: line 3, column 1: expected the node content, but found '<stream end>'"
    )
    path.write_bytes(b"- '\xff'\n")
    with pytest.raises(RedactionRulesError) as refused:
        load_rules(path)
    assert str(refused.value) == f"{path}: not YAML: byte 3 is not UTF-8"
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(RedactionRulesError) as refused:
        load_rules(missing)
    assert str(refused.value) == f"{missing}: cannot be read: No such file or directory"
    assert isinstance(refused.value, ValueError)


def test_keys_go_first_then_each_rule_on_what_the_one_before_left() -> None:
    redactor = Redactor(
        parse_rules(["0123", {"pattern": "cat", "replace": "dog"}, "dog"], "<test>"),
        secrets=[KEY],
    )
    # Were the rule "0123" first, the key would be cut in two and missed.
    assert (
        redactor.text(f"Bearer {KEY}: cat 0123") == "Bearer [redacted key]: [redacted] [redacted]"
    )
    assert redactor.keys_replaced == 1
    assert redactor.changed == [1, 1, 1]


def test_a_key_learned_later_counts_from_then_and_short_keys_count_too() -> None:
    redactor = Redactor()
    assert redactor.text("k1 and k1") == "k1 and k1"
    redactor.secret("k1")
    redactor.secret("")  # nothing: it would be everywhere
    assert redactor.text("k1 and k1") == f"{REDACTED_KEY} and {REDACTED_KEY}"
    assert redactor.keys_replaced == 2


def test_a_key_that_holds_another_goes_whole() -> None:
    redactor = Redactor(secrets=["abc", "abcdef"])
    assert redactor.text("abcdef abc") == f"{REDACTED_KEY} {REDACTED_KEY}"


def test_group_references_work_as_in_re_sub() -> None:
    redactor = rules(
        {"pattern": r"(?P<who>customer) (\w+)", "replace": r"\g<who> [name]"},
        {"pattern": r"(\d{4})-(\d{2})", "replace": r"\2/\1"},
    )
    assert redactor.text("customer Alice, 2024-05") == "customer [name], 05/2024"


def test_a_rule_never_inserts_text_where_it_matches_nothing() -> None:
    redactor = rules(r"(?=x)", r"\bsecret\w*")
    assert redactor.text("axb secrets") == "axb [redacted]"
    assert redactor.changed == [0, 1]


def test_nested_values_are_redacted_keys_of_objects_too() -> None:
    redactor = Redactor(parse_rules(["acme"], "<test>"), secrets=[KEY])
    value = {
        "key": KEY,
        KEY: [1, 2.5, True, None, {"acme": "acme corp"}, ("acme",)],
        REDACTED_KEY: "already",
        f"{REDACTED_KEY} (2)": "taken",
    }
    assert redactor.value(value) == {
        "key": REDACTED_KEY,
        REDACTED_KEY: [1, 2.5, True, None, {REDACTED: f"{REDACTED} corp"}, [REDACTED]],
        f"{REDACTED_KEY} (2)": "already",  # two keys became one: both kept
        f"{REDACTED_KEY} (2) (2)": "taken",
    }
    assert redactor.value(7) == 7
    assert redactor.value(None) is None


def test_odd_text_passes_through_and_lone_surrogates_stay() -> None:
    """A str may hold lone surrogates (JSON's ``"\\ud800"``): they are code points like
    any other, kept as they came, while keys and rules around them are still found."""
    redactor = Redactor(parse_rules(["x+"], "<test>"), secrets=[KEY])
    assert (
        redactor.text(f"\ud800{KEY}\udfff xx \x00") == f"\ud800{REDACTED_KEY}\udfff {REDACTED} \x00"
    )
    assert redactor.text("") == ""


def test_a_utf8_file_is_redacted_as_text() -> None:
    redactor = Redactor(parse_rules(["Temasek"], "<test>"), secrets=[KEY])
    data = f"\ufeff# Deck for Temasek ✓\nkey: {KEY}\n".encode()
    assert redactor.file("output/notes.md", data) == (
        f"\ufeff# Deck for {REDACTED} ✓\nkey: {REDACTED_KEY}\n".encode()
    )
    assert redactor.unredactable == []


def zipped(text: str, method: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        archive.writestr("ppt/slides/slide1.xml", text)
    return buffer.getvalue()


def test_binary_bytes_pass_only_when_nothing_could_be_in_them() -> None:
    deck = zipped("<p>quarterly numbers</p>" * 50, zipfile.ZIP_DEFLATED)
    with pytest.raises(UnicodeDecodeError):
        deck.decode("utf-8")
    assert Redactor().file("output/q3.pptx", deck) == deck
    assert Redactor(secrets=[KEY]).file("output/q3.pptx", deck) == deck  # the key is not in it
    with_rule = rules("numbers")
    assert with_rule.file("output/q3.pptx", deck) is None  # deflated: it cannot be searched
    assert with_rule.unredactable == ["output/q3.pptx"]
    stored = zipped(f"<p>{KEY}</p>", zipfile.ZIP_STORED)
    assert Redactor(secrets=[KEY]).file("output/key.pptx", stored) is None
    assert Redactor().file("odd.bin", b"\xed\xa0\x80") == b"\xed\xa0\x80"  # a surrogate: not UTF-8


def test_megabytes_of_text_are_redacted_whole() -> None:
    redactor = Redactor(parse_rules([r"token=\w+"], "<test>"), secrets=[KEY])
    chunk = f"{'x' * 1000} {KEY} token=abc\n"
    text = redactor.text(chunk * 5000)
    assert text == f"{'x' * 1000} {REDACTED_KEY} {REDACTED}\n" * 5000
    assert (redactor.keys_replaced, redactor.changed) == (5000, [5000])


def test_threads_may_share_a_redactor_while_keys_arrive() -> None:
    redactor = rules("acme")
    wrong: list[str] = []

    def work(number: int) -> None:
        redactor.secret(f"key-{number}")
        for _ in range(200):
            text = redactor.text(f"acme key-{number}")
            if text != f"{REDACTED} {REDACTED_KEY}":
                wrong.append(text)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert (redactor.keys_replaced, redactor.changed) == (1600, [1600])
