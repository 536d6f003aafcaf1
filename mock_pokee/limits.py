"""Every bound on what a request can make the server keep, generate or spend, on one page.

A mock that anyone can send anything must have a worst case, and a reader should see it
here rather than hunt for it: each bound is named with the contract clause it comes from
or the reason it is what it is. The modules that enforce a bound import it from here.
docs/limits.md tells users the same in a table, with what happens past each one.

Sizes in bytes unless said; times in seconds of the mock's clock unless said.
"""

from __future__ import annotations

# -- what a request may send -------------------------------------------------------------

MAX_JSON_BODY = 1 << 20  # JSON bodies are small; anything larger is a mistake
# Problems a 400 spells out (A5 names the field at fault): a 1 MiB body can hold 300,000
# wrong array items, and a message listing each would be 18 MB built on the event loop.
MAX_PROBLEMS = 20
MAX_JSON_DEPTH = 64  # levels of arrays and objects in one JSON document (a tool schema takes 32)
MAX_JSON_DIGITS = 100  # digits of one integer in a JSON document
MAX_DIGITS = 18  # digits of a whole number in a header or parameter (fits 64 bits)
UPLOAD_LIMIT = 100 * 1024 * 1024  # F3: 100 MiB (--upload-limit)
# Wall-time bounds (real seconds) on slow clients: sending a request head; an upload's
# body sending nothing (--body-timeout).
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 30.0
MAX_SEGMENT_BYTES = 255  # F2: a path segment
MAX_PATH_BYTES = 1024  # F2: a whole path
MAX_TENANT = 64  # A3: characters of a tenant name in a shaped key
MAX_KEY = 4_096  # A3: characters of a key (the server remembers recent keys)
MAX_IDEMPOTENCY_KEY = 255  # M9: characters of an Idempotency-Key
MAX_TTL = 604_800  # S1 [C]: one week

# R1: a stateless call carries its whole history and its tools, and S1b's 128 tools with
# 16 KiB descriptions are 2 MiB alone: room for that and as much input again. A body past
# `MAX_JSON_BODY` is read in a worker thread, so its size never holds the event loop.
MAX_RESPONSE_BODY = 4 << 20
# R1 [O]: a response's metadata, as OpenAI bounds it: 16 pairs, keys of 64 characters,
# values of 512.
MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512

# S1b: a session's tools.
MAX_TOOLS = 128
MAX_TOOL_NAME = 64
MAX_DESCRIPTION_BYTES = 16 * 1024
MAX_SCHEMA_DEPTH = 32  # nesting of the parameters schema, in JSON containers

# K1-K3: skills.
MAX_SKILL_NAME = 64  # K1: 1 to 64 characters
# Skills a tenant may hold at once. K3 keeps them out of F9's count, so this bounds the disk
# one key can fill with them (50 GB at K2's 50 MB a bundle). Not in the contract: a [C].
MAX_SKILLS = 1_000
MAX_ENTRIES = 1_000  # K2: entries of a bundle, folders included
MAX_FILE_BYTES = 25 * 10**6  # K2: 25 MB a file, uncompressed (decimal MB: the stricter reading)
MAX_TOTAL_BYTES = 50 * 10**6  # K2: 50 MB in all, uncompressed
# The zip as sent, read whole before unpacking (a zip is read from its end). K2 bounds what
# it unpacks to; a stored bundle at that bound is a little larger, by its headers.
MAX_BUNDLE_BYTES = 55 * 10**6
# K2's 1,000 entries, each with its 46 bytes of header, a name of at most 1,024 bytes (F2's
# limit, which entry names share) and room for its extra fields: a larger central directory
# lists more entries than K2 allows, or names no path may have.
MAX_CENTRAL_DIRECTORY = MAX_ENTRIES * 2_048
MAX_FIRST_LINE = 1_024  # bytes of SKILL.md's first line kept (K4 shows it in a tool_result)

# C5: fault rules.
MAX_DELAY = 600.0  # seconds; a longer delay is a hang, not a delay
MAX_RULES = 1_000  # per tenant (and for the server)
MAX_NTH = 10_000  # attempts one ``nth`` schedule lists: kept as a set while the rule lives
MAX_STUB_HEADERS = 50  # headers of a ``respond`` rule's answer
FAULT_MATCH_CACHE = 4_096  # distinct (method, path) pairs a rule book remembers

# Path globs (fault rules, F8 scopes): matched in one pass, so their cost is bounded by
# their shape, not by how many rules there are.
MAX_PATTERN = 512  # characters; a longer pattern is refused where rules are validated
# Characters of the segments between the first and the last ``**`` of a pattern, each
# counting one more for its ``/``. Placing such a run is a search over the whole path
# whose worst case is the path's length times this; ``/**/responses/*/events/**`` uses 19.
MAX_FLOATING = 64
# Stars in a pattern (``**`` segments aside): each middle piece is one more search of
# its segment, made on every request.
MAX_STARS = 64
# Floating characters of all of a book's rules together: each can cost a request one pass
# over its path, so this, not the number of rules, bounds that part of a request's matching
# (four patterns at the most a pattern may have, or 36 like ``/**/*.json/**``; runs without
# a star cost one search and count 0).
MAX_BOOK_FLOATING = 256

# C1: the clock's range, from the epoch to the last second an HTTP date can show
# (9999-12-31T23:59:59Z), so every time the mock shows can be written out.
MAX_TIME = 253_402_300_799.0
# The fastest ``scaled`` clock: a 90-minute turn in 5 ms. Even at this speed the clock
# needs about 70 hours of wall time to run from today past `MAX_TIME` (after which the
# Date header stays at `MAX_TIME`).
MAX_SCALE = 1_000_000

# -- what a turn may generate -------------------------------------------------------------

# Generated tool-call arguments (D, M12), whatever the tool's schema asks.
MAX_ARGUMENT_DEPTH = 8  # levels followed into a schema; deeper ones get a plain string
MAX_ITEMS = 16  # items of one array, whatever ``minItems`` asks
# Characters of one string, whatever ``minLength`` asks: as long as a tool's description
# may be (S1b, 16 KiB); a schema asking for more tests the generator, not the client.
MAX_STRING = 16_384
MAX_VALUES = 1_000  # values (objects, arrays, scalars) in one call's arguments
MAX_ARGUMENTS = 65_536  # characters of one call's arguments as JSON, within a few hundred
MAX_PARTS = 50  # slides or sections of a document; more is not a request taken literally
# Characters of the user's message and of the tool outputs a response's text may quote
# (R8's templates): a 4 MiB message echoed back would be 500,000 events to keep and send.
MAX_QUOTED = 16_384
# A file a scenario's ``write: {size: N}`` generates (what ``mock-pokee record`` writes for
# a file too large to keep): made in memory, so bounded well below what a host has.
MAX_GENERATED_FILE = 1 << 30

# -- what the server keeps, and when it lets go ----------------------------------------------

JOURNAL_SIZE = 20_000  # C4: entries per tenant (and for the server) before the oldest go
# What a request entry keeps of the request's headers (C4): a client may send megabytes of
# them, and the journal keeps thousands of entries, so an entry keeps at most
# `MAX_KEPT_HEADER_BYTES`, each name and value cut at `MAX_KEPT_VALUE` bytes (room for
# the longest key, A3, so an Authorization header is still masked as a key).
MAX_KEPT_VALUE = 4_608
MAX_KEPT_HEADER_BYTES = 16_384
MAX_KEPT_PATH = 2_048  # characters of a request's path an entry keeps (a target may be 64 KiB)
# Characters of an event's data its journal entry keeps (C4): enough for every event but
# the long texts of a turn, whose data stays with the turn's log only while it is kept.
MAX_JOURNALED_DATA = 4_096
FEED_SIZE = 50_000  # entries the keyless feed keeps for readers that fall behind (C4)
# A finished turn stays replayable for M7's 120 s unless a tenant has more finished turns
# than these (their event data counted): the oldest are then let go early, as if their
# 120 s had passed. Under a clock that does not move (a test's), 120 s may never pass, and
# a tenant must not keep every turn it ran.
MAX_FINISHED_TURNS = 200
MAX_FINISHED_BYTES = 64 * 1024 * 1024
WORKSPACE_LIMIT = 100 * 10**9  # F9: 100 GB a tenant, every file counted (--workspace-limit)
# Tenants a registry holds before it first forgets the ones that hold nothing (A3: every
# distinct key makes a tenant, and a fleet of CI jobs sends many keys).
FORGET_FROM = 1_000
HEADER_CACHE_SIZE = 4_096  # parsed Authorization headers remembered (A3)


# -- what `mock-pokee record` keeps of one turn or response --------------------------------

# The upstream is any deployment: what the proxy keeps in memory until a run ends is bounded
# whatever it sends. Past a bound the recording says what it left out.
MAX_RECORDED_EVENTS = 100_000  # events kept of one run (a long answer is a few thousand)
MAX_RECORDED_EVENT = 16 * 1024 * 1024  # bytes of one event's lines (the client's bound too)
MAX_RECORDED_SAMPLES = 10_000  # metadata changes kept of one turn; the last is always kept
MAX_RECORDED_FILES = 256 * 1024 * 1024  # bytes of one turn's files kept as fixtures
