"""Keys and tenants (A2, A3): header parsing, tenant names, key lists, masking."""

from __future__ import annotations

import pytest

from mock_pokee.domain.errors import Unauthorized
from mock_pokee.domain.keys import KeyPolicy, mask, mask_authorization, read_keys_file, tenant_of


def test_shaped_keys_name_their_tenant_and_others_are_their_own() -> None:
    assert tenant_of("pk_acme_abc123") == "acme"
    assert tenant_of("pk_acme_other_token") == "acme"
    odd = tenant_of("anything")
    assert odd.startswith("key_")
    assert "anything" not in odd
    assert tenant_of("anything") == odd != tenant_of("anything2")


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer  ", "Basic abc", "Bearer a b", "pk_acme_x"]
)
def test_bad_headers_are_unauthorized_naming_the_header(header: str | None) -> None:
    with pytest.raises(Unauthorized, match="Authorization"):
        KeyPolicy().key_from_header(header)


def test_the_scheme_is_case_insensitive() -> None:
    assert KeyPolicy().key_from_header("bearer pk_acme_x") == "pk_acme_x"


def test_a_key_list_accepts_only_its_keys_without_echoing_them() -> None:
    policy = KeyPolicy(frozenset({"pk_acme_good"}))
    assert policy.key_from_header("Bearer pk_acme_good") == "pk_acme_good"
    with pytest.raises(Unauthorized) as refused:
        policy.key_from_header("Bearer pk_acme_secretvalue")
    assert "secretvalue" not in refused.value.message
    assert mask("pk_acme_secretvalue") == "pk_acme_…"


def test_mask_shows_four_characters_only_of_a_long_secret() -> None:
    assert mask("pk_acme_0123456789abcdef") == "pk_acme_…cdef"
    assert mask("pk_acme_x") == "pk_acme_…"
    assert mask("anything") == "…"
    assert mask("a-long-unshaped-key-1234") == "…1234"


def test_an_authorization_header_is_shown_with_its_secret_masked() -> None:
    """C4: whatever the scheme, the journal never shows the credential."""
    assert mask_authorization("Bearer pk_acme_0123456789abcdef") == "Bearer pk_acme_…cdef"
    assert mask_authorization("Basic dXNlcjpwYXNzd29yZA==") == "…"
    assert mask_authorization("pk_acme_0123456789abcdef") == "…"
    assert mask_authorization("") == ""


def test_keys_file_skips_blanks_and_comments() -> None:
    text = "# ci keys\npk_a_1\n\n  pk_b_2  # second\n"
    assert read_keys_file(text) == frozenset({"pk_a_1", "pk_b_2"})
