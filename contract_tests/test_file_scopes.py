"""F8: a session's scope (``file_access``) over the files API, over real sockets.

The documented rules ([D]) are plain tests; the mock's reading of what the docs leave open
([C]: segment-wise coverage, trailing slashes, entries refused at create, listings above
the scope, paths under a file) is marked ``inferred``.

Every path is inside the test's own folder (``folder``, ``ct-<hex>/``): on a deployment
the workspace holds the tenant's own files, which a test must neither see nor touch.
"""

from __future__ import annotations

import json

import httpx
import pytest

from .checks import assert_error, create, created, session_ids
from .workspace import put, session, tree


def out_of_scope(response: httpx.Response, path: str) -> None:
    """F8's documented refusal: 403 ``'<path>' not in session scope``, in the A5 shape
    (its short name, ``forbidden_path``, is F2 [C]: the inferred tests check it)."""
    assert response.status_code == 403, response.text
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["message"] == f"'{path}' not in session scope"


def out_of_scope_named(response: httpx.Response, path: str) -> None:
    """`out_of_scope`, and (F2 [C]) the short name ``forbidden_path``."""
    out_of_scope(response, path)
    assert response.json()["error"] == "forbidden_path"


@pytest.fixture
def seeded(api: httpx.Client, folder: str) -> str:
    """A session with the whole workspace, after storing files (in this test's folder) on
    both sides of the ``projects/acme`` / ``projects/acme-corp`` line."""
    sid = session(api)
    for path in ("projects/acme/plan.md", "projects/acme-corp/secret.md", "projects/readme.md"):
        assert put(api, sid, folder + path, path.encode()).status_code == 201
    assert put(api, sid, f"{folder}top.txt", b"top").status_code == 201
    return sid


def test_f8_an_out_of_scope_path_is_403_with_the_documented_message(
    api: httpx.Client, seeded: str, folder: str
) -> None:
    """F8: the files API enforces the scope; ``'<path>' not in session scope``."""
    acme = f"{folder}projects/acme"
    sid = session(api, file_access={"read": [acme], "write": [acme]})
    top = f"{folder}top.txt"
    out_of_scope(api.get(f"/v1/sessions/{sid}/files/{top}"), top)
    out_of_scope(put(api, sid, top, b"overwritten?"), top)
    out_of_scope(api.delete(f"/v1/sessions/{sid}/files/{top}"), top)
    assert tree(api, seeded, folder.rstrip("/"))[top] == b"top"


@pytest.mark.inferred
@pytest.mark.parametrize("slash", ["", "/"])
def test_f8_an_entry_covers_its_own_segments_only(
    api: httpx.Client, seeded: str, folder: str, slash: str
) -> None:
    """F8 [C]: ``projects/acme`` covers ``projects/acme/…`` but not
    ``projects/acme-corp/…``; a trailing slash changes nothing; the record echoes the
    entry as given."""
    entry = f"{folder}projects/acme{slash}"
    response = api.post(
        "/v1/sessions",
        json={"persistent": True, "file_access": {"read": [entry], "write": [entry]}},
    )
    record = created(api, response)
    assert record["file_access"] == {"read": [entry], "write": [entry]}
    sid = str(record["id"])
    plan = api.get(f"/v1/sessions/{sid}/files/{folder}projects/acme/plan.md")
    assert plan.content == b"projects/acme/plan.md"
    assert put(api, sid, f"{folder}projects/acme/new.md", b"new").status_code == 201
    assert api.delete(f"/v1/sessions/{sid}/files/{folder}projects/acme/new.md").status_code == 204
    secret = f"{folder}projects/acme-corp/secret.md"
    out_of_scope_named(api.get(f"/v1/sessions/{sid}/files/{secret}"), secret)
    out_of_scope_named(put(api, sid, secret, b"overwritten?"), secret)
    out_of_scope_named(api.delete(f"/v1/sessions/{sid}/files/{secret}"), secret)
    corp = f"{folder}projects/acme-corp"
    out_of_scope_named(api.get(f"/v1/sessions/{sid}/files", params={"path": corp}), corp)
    assert tree(api, seeded, folder.rstrip("/"))[secret] == b"projects/acme-corp/secret.md"


def test_f8_write_implies_read(api: httpx.Client, seeded: str, folder: str) -> None:
    """F8: a path in ``write`` can be read and listed, even with ``read`` empty."""
    acme = f"{folder}projects/acme"
    sid = session(api, file_access={"read": [], "write": [acme]})
    plan = api.get(f"/v1/sessions/{sid}/files/{acme}/plan.md")
    assert plan.content == b"projects/acme/plan.md"
    listing = api.get(f"/v1/sessions/{sid}/files", params={"path": acme})
    assert [e["name"] for e in listing.json()] == ["plan.md"]
    readme = f"{folder}projects/readme.md"
    out_of_scope(api.get(f"/v1/sessions/{sid}/files/{readme}"), readme)


def test_f8_a_read_entry_does_not_give_write(api: httpx.Client, seeded: str, folder: str) -> None:
    """F8: ``read`` alone is read-only."""
    sid = session(api, file_access={"read": [f"{folder}projects"], "write": []})
    readme = f"{folder}projects/readme.md"
    assert api.get(f"/v1/sessions/{sid}/files/{readme}").status_code == 200
    out_of_scope(put(api, sid, readme, b"x"), readme)
    out_of_scope(api.delete(f"/v1/sessions/{sid}/files/{readme}"), readme)


def test_f8_the_sessions_own_folder_is_always_open_to_it(api: httpx.Client) -> None:
    """F8: ``.sessions/{id}/`` is readable and writable by that session whatever its
    scope; another session's folder is not. (A new session's own folder holds nothing
    before it writes there, whatever else the workspace holds.)"""
    sid = session(api, file_access={"read": [], "write": []})
    other = session(api, file_access={"read": [], "write": []})
    own = f".sessions/{sid}/notes.txt"
    assert put(api, sid, own, b"mine").json()["path"] == own
    assert api.get(f"/v1/sessions/{sid}/files/{own}").content == b"mine"
    listing = api.get(f"/v1/sessions/{sid}/files", params={"path": f".sessions/{sid}"})
    assert [e["name"] for e in listing.json()] == ["notes.txt"]
    out_of_scope(api.get(f"/v1/sessions/{other}/files/{own}"), own)
    out_of_scope(put(api, other, own, b"theirs"), own)
    assert api.delete(f"/v1/sessions/{sid}/files/{own}").status_code == 204


@pytest.mark.inferred
@pytest.mark.parametrize(
    "entry",
    ["/projects", "../outside", "a/../b", "a\\b", "a\x01b", "a\x7fb", "a\x85b", "a//b", "a\ud800"],
)
def test_f8_bad_entries_are_refused_at_create(api: httpx.Client, entry: str) -> None:
    """F8 [C]: an entry with a leading slash, a ``..`` segment, a backslash or a control
    character (DEL and U+0085 too) → 400 naming the entry; no session is made. A lone
    surrogate too (issue 9, 3): it could never be served back."""
    before = session_ids(api)
    for field in ("read", "write"):
        body = json.dumps({"file_access": {field: ["ok", entry]}})  # \u-escapes surrogates
        response = api.post("/v1/sessions", content=body)
        # A lone surrogate is refused before the scope rules are asked (every body's rule).
        shown = "lone surrogate" if entry == "a\ud800" else repr(entry)
        assert_error(response, 400, "invalid_request", f"file_access.{field}", shown)
    assert session_ids(api) == before


@pytest.mark.inferred
def test_f8_a_listing_above_the_scope_shows_only_the_way_to_it(
    api: httpx.Client, seeded: str, folder: str
) -> None:
    """F8 [C]: a directory above the scope lists only the entries that lead to in-scope
    paths; anything else there stays out of reach. From the root, the way to the scope
    is this test's folder, whatever else the workspace holds, and at most ``.sessions``:
    the way to the session's own folder, always in its scope, where no other session's
    folder shows."""
    mine = folder.rstrip("/")
    sid = session(api, file_access={"read": [f"{mine}/projects/acme"], "write": []})

    def names(path: str) -> list[str]:
        response = api.get(f"/v1/sessions/{sid}/files", params={"path": path})
        assert response.status_code == 200, response.text
        return [entry["name"] for entry in response.json()]

    top = names("")
    assert [name for name in top if name != ".sessions"] == [mine]
    if ".sessions" in top:
        assert set(names(".sessions")) <= {sid}
    assert names(mine) == ["projects"]
    assert names(f"{mine}/projects") == ["acme"]
    assert names(f"{mine}/projects/acme") == ["plan.md"]
    listed = api.get(f"/v1/sessions/{sid}/files/{mine}/projects").json()
    assert [e["name"] for e in listed] == ["acme"]
    readme = f"{mine}/projects/readme.md"
    out_of_scope_named(api.get(f"/v1/sessions/{sid}/files/{readme}"), readme)
    out_of_scope_named(
        put(api, sid, f"{mine}/projects", b"a file over the way?"), f"{mine}/projects"
    )


@pytest.mark.inferred
def test_f8_a_path_under_a_file_is_403_naming_it(api: httpx.Client, folder: str) -> None:
    """F8 [C] (issue 9, 5 and 6): with ``a.txt`` a file, ``a.txt/b`` is 403 naming it for
    every method, never a 500; ``a.txt`` is unchanged."""
    sid = session(api)
    put(api, sid, f"{folder}a.txt", b"a file")
    for response in (
        put(api, sid, f"{folder}a.txt/b", b"x"),
        api.get(f"/v1/sessions/{sid}/files/{folder}a.txt/b"),
        api.delete(f"/v1/sessions/{sid}/files/{folder}a.txt/b"),
        api.get(f"/v1/sessions/{sid}/files", params={"path": f"{folder}a.txt/b"}),
    ):
        assert_error(
            response, 403, "forbidden_path", f"'{folder}a.txt/b'", f"'{folder}a.txt' is a file"
        )
    mine = folder.rstrip("/")
    assert tree(api, sid, mine) == {f"{mine}/a.txt": b"a file"}


@pytest.mark.inferred
def test_f8_an_entry_may_name_a_file_and_then_nothing_goes_under_it(
    api: httpx.Client, folder: str
) -> None:
    """F8 [C] (issue 9, 6): ``out/`` = ``out`` covers ``out`` itself, so the session may
    store a file there; writes under it are then 403 (not 500) until it is deleted. A
    sibling that merely starts with the same letters (``outer``) is not covered."""
    out = f"{folder}out"
    sid = session(api, file_access={"read": [], "write": [f"{out}/"]})
    assert put(api, sid, out, b"a file").status_code == 201
    assert_error(put(api, sid, f"{out}/x.txt", b"x"), 403, "forbidden_path", f"'{out}' is a file")
    assert api.delete(f"/v1/sessions/{sid}/files/{out}").status_code == 204
    assert put(api, sid, f"{out}/x.txt", b"x").status_code == 201
    out_of_scope_named(put(api, sid, f"{folder}outer", b"x"), f"{folder}outer")


@pytest.mark.inferred
def test_f8_a_key_left_out_of_file_access_grants_nothing(api: httpx.Client, folder: str) -> None:
    """F8 [C]: {"read": [dir]} alone is a read-only session of dir, not (write implying
    read) one with the whole workspace."""
    docs = f"{folder}docs"
    record = create(api, persistent=True, file_access={"read": [docs]})
    assert record["file_access"] == {"read": [docs], "write": []}
    sid = record["id"]
    refused = api.put(f"/v1/sessions/{sid}/files/{docs}/a.txt", content=b"x")
    assert_error(refused, 403, "forbidden_path", "not in session scope")
    other = f"{folder}other.txt"
    assert_error(api.get(f"/v1/sessions/{sid}/files/{other}"), 403, "forbidden_path")
