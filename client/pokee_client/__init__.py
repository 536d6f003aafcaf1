"""pokee_client: the reference client of the Pokee API (sessions, and stateless responses).

```python
from pokee_client import PokeeClient

with PokeeClient() as pokee:  # POKEE_API and POKEE_KEY
    result = pokee.run("Build a Temasek-style PPT on Q3 NVIDIA performance.", out="decks")
    print(result.status, result.files)
```

Docstrings name the clauses of the API contract they follow (S1 sessions, M messages,
F files, K skills, U usage, R stateless responses): the contract is mock-pokee's
`mock_pokee/contract.md`, installed with mock-pokee and readable in its repository.

Names are imported on first use, so that the `pokee` command starts without loading httpx
until a command needs it. The errors are drawn as a tree in `pokee_client.errors`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pokee_client.aio import (
        AsyncFiles,
        AsyncMessages,
        AsyncPokeeClient,
        AsyncResponses,
        AsyncResponseStream,
        AsyncSessions,
        AsyncSkills,
        AsyncTurnStream,
    )
    from pokee_client.errors import (
        APIError,
        ConfigurationError,
        ForbiddenPathError,
        IdempotencyMismatchError,
        InternalServerError,
        InvalidRequestError,
        MethodNotAllowedError,
        NotFoundError,
        PayloadTooLargeError,
        PaymentRequiredError,
        PokeeError,
        ProtocolError,
        RangeNotSatisfiableError,
        RateLimitedError,
        ServiceUnavailableError,
        SessionBusyError,
        TransportError,
        UnauthorizedError,
    )
    from pokee_client.events import (
        Event,
        MessageCancelled,
        MessageCompleted,
        MessageCreated,
        MessageError,
        TextDelta,
        TextStart,
        TextStop,
        ThinkingDelta,
        ThinkingStart,
        ThinkingStop,
        ToolResult,
        ToolUseExecuting,
        ToolUseInputDelta,
        ToolUseStart,
        ToolUseStop,
        UnknownEvent,
    )
    from pokee_client.limits import (
        Limits,
    )
    from pokee_client.progress import (
        Progress,
    )
    from pokee_client.records import (
        Credits,
        FileAccess,
        FileEntry,
        InstalledSkill,
        Session,
        Skill,
        StoredFile,
        Usage,
        UsageWindow,
    )
    from pokee_client.response_events import (
        ResponseArgumentsDelta,
        ResponseArgumentsDone,
        ResponseCancelled,
        ResponseCompleted,
        ResponseContentPartAdded,
        ResponseContentPartDone,
        ResponseCreated,
        ResponseFailed,
        ResponseInProgress,
        ResponseOutputItemAdded,
        ResponseOutputItemDone,
        ResponseReasoningDelta,
        ResponseReasoningDone,
        ResponseTextDelta,
        ResponseTextDone,
    )
    from pokee_client.response_object import (
        FunctionCall,
        OutputItem,
        OutputMessage,
        Reasoning,
        Response,
        ResponseUsage,
        UnknownItem,
    )
    from pokee_client.responses import (
        ResponseOptions,
    )
    from pokee_client.retrying import (
        RetryPolicy,
    )
    from pokee_client.running import (
        RunResult,
    )
    from pokee_client.signals import (
        Terminated,
    )
    from pokee_client.sync import (
        Files,
        Messages,
        PokeeClient,
        Responses,
        ResponseStream,
        Sessions,
        Skills,
        TurnStream,
    )
    from pokee_client.turns import (
        TurnOutcome,
    )

_HOMES = {
    "PokeeClient": "pokee_client.sync",
    "TurnStream": "pokee_client.sync",
    "Sessions": "pokee_client.sync",
    "Messages": "pokee_client.sync",
    "Files": "pokee_client.sync",
    "Skills": "pokee_client.sync",
    "AsyncPokeeClient": "pokee_client.aio",
    "AsyncTurnStream": "pokee_client.aio",
    "AsyncSessions": "pokee_client.aio",
    "AsyncMessages": "pokee_client.aio",
    "AsyncFiles": "pokee_client.aio",
    "AsyncSkills": "pokee_client.aio",
    "RetryPolicy": "pokee_client.retrying",
    "Limits": "pokee_client.limits",
    "Session": "pokee_client.records",
    "FileAccess": "pokee_client.records",
    "FileEntry": "pokee_client.records",
    "StoredFile": "pokee_client.records",
    "InstalledSkill": "pokee_client.records",
    "Skill": "pokee_client.records",
    "Usage": "pokee_client.records",
    "UsageWindow": "pokee_client.records",
    "Credits": "pokee_client.records",
    "TurnOutcome": "pokee_client.turns",
    "RunResult": "pokee_client.running",
    "Terminated": "pokee_client.signals",
    "Progress": "pokee_client.progress",
    "Event": "pokee_client.events",
    "UnknownEvent": "pokee_client.events",
    "MessageCreated": "pokee_client.events",
    "TextStart": "pokee_client.events",
    "TextDelta": "pokee_client.events",
    "TextStop": "pokee_client.events",
    "ThinkingStart": "pokee_client.events",
    "ThinkingDelta": "pokee_client.events",
    "ThinkingStop": "pokee_client.events",
    "ToolUseStart": "pokee_client.events",
    "ToolUseInputDelta": "pokee_client.events",
    "ToolUseExecuting": "pokee_client.events",
    "ToolUseStop": "pokee_client.events",
    "ToolResult": "pokee_client.events",
    "MessageCompleted": "pokee_client.events",
    "MessageError": "pokee_client.events",
    "MessageCancelled": "pokee_client.events",
    "PokeeError": "pokee_client.errors",
    "ConfigurationError": "pokee_client.errors",
    "TransportError": "pokee_client.errors",
    "ProtocolError": "pokee_client.errors",
    "APIError": "pokee_client.errors",
    "InvalidRequestError": "pokee_client.errors",
    "UnauthorizedError": "pokee_client.errors",
    "PaymentRequiredError": "pokee_client.errors",
    "ForbiddenPathError": "pokee_client.errors",
    "NotFoundError": "pokee_client.errors",
    "MethodNotAllowedError": "pokee_client.errors",
    "SessionBusyError": "pokee_client.errors",
    "PayloadTooLargeError": "pokee_client.errors",
    "RangeNotSatisfiableError": "pokee_client.errors",
    "IdempotencyMismatchError": "pokee_client.errors",
    "RateLimitedError": "pokee_client.errors",
    "InternalServerError": "pokee_client.errors",
    "ServiceUnavailableError": "pokee_client.errors",
    "Responses": "pokee_client.sync",
    "ResponseStream": "pokee_client.sync",
    "AsyncResponses": "pokee_client.aio",
    "AsyncResponseStream": "pokee_client.aio",
    "Response": "pokee_client.response_object",
    "ResponseUsage": "pokee_client.response_object",
    "OutputItem": "pokee_client.response_object",
    "OutputMessage": "pokee_client.response_object",
    "FunctionCall": "pokee_client.response_object",
    "Reasoning": "pokee_client.response_object",
    "UnknownItem": "pokee_client.response_object",
    "ResponseOptions": "pokee_client.responses",
    "ResponseCreated": "pokee_client.response_events",
    "ResponseInProgress": "pokee_client.response_events",
    "ResponseOutputItemAdded": "pokee_client.response_events",
    "ResponseContentPartAdded": "pokee_client.response_events",
    "ResponseTextDelta": "pokee_client.response_events",
    "ResponseTextDone": "pokee_client.response_events",
    "ResponseContentPartDone": "pokee_client.response_events",
    "ResponseArgumentsDelta": "pokee_client.response_events",
    "ResponseArgumentsDone": "pokee_client.response_events",
    "ResponseReasoningDelta": "pokee_client.response_events",
    "ResponseReasoningDone": "pokee_client.response_events",
    "ResponseOutputItemDone": "pokee_client.response_events",
    "ResponseCompleted": "pokee_client.response_events",
    "ResponseFailed": "pokee_client.response_events",
    "ResponseCancelled": "pokee_client.response_events",
}

__all__ = [
    "APIError",
    "AsyncFiles",
    "AsyncMessages",
    "AsyncPokeeClient",
    "AsyncResponseStream",
    "AsyncResponses",
    "AsyncSessions",
    "AsyncSkills",
    "AsyncTurnStream",
    "ConfigurationError",
    "Credits",
    "Event",
    "FileAccess",
    "FileEntry",
    "Files",
    "ForbiddenPathError",
    "FunctionCall",
    "IdempotencyMismatchError",
    "InstalledSkill",
    "InternalServerError",
    "InvalidRequestError",
    "Limits",
    "MessageCancelled",
    "MessageCompleted",
    "MessageCreated",
    "MessageError",
    "Messages",
    "MethodNotAllowedError",
    "NotFoundError",
    "OutputItem",
    "OutputMessage",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PokeeClient",
    "PokeeError",
    "Progress",
    "ProtocolError",
    "RangeNotSatisfiableError",
    "RateLimitedError",
    "Reasoning",
    "Response",
    "ResponseArgumentsDelta",
    "ResponseArgumentsDone",
    "ResponseCancelled",
    "ResponseCompleted",
    "ResponseContentPartAdded",
    "ResponseContentPartDone",
    "ResponseCreated",
    "ResponseFailed",
    "ResponseInProgress",
    "ResponseOptions",
    "ResponseOutputItemAdded",
    "ResponseOutputItemDone",
    "ResponseReasoningDelta",
    "ResponseReasoningDone",
    "ResponseStream",
    "ResponseTextDelta",
    "ResponseTextDone",
    "ResponseUsage",
    "Responses",
    "RetryPolicy",
    "RunResult",
    "ServiceUnavailableError",
    "Session",
    "SessionBusyError",
    "Sessions",
    "Skill",
    "Skills",
    "StoredFile",
    "Terminated",
    "TextDelta",
    "TextStart",
    "TextStop",
    "ThinkingDelta",
    "ThinkingStart",
    "ThinkingStop",
    "ToolResult",
    "ToolUseExecuting",
    "ToolUseInputDelta",
    "ToolUseStart",
    "ToolUseStop",
    "TransportError",
    "TurnOutcome",
    "TurnStream",
    "UnauthorizedError",
    "UnknownEvent",
    "UnknownItem",
    "Usage",
    "UsageWindow",
    "__version__",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
