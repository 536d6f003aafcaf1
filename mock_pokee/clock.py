"""One clock for everything time-based in the mock (contract clause C1).

Nothing else in the mock reads wall time: timestamps, session expiry, retention, pings and
scenario pauses all ask a `Clock`. Three modes:

- ``real``: wall time.
- ``scaled``: wall time sped up ``scale`` times from the moment the mode was set.
- ``virtual``: frozen; it moves only when told (`advance`, or `set(now=…)`).
- ``autojump``: virtual, except that while a client waits on a turn that is only sleeping
  on the clock (a scenario pause, a tool's duration) and nothing else is awake, the clock
  jumps to that turn's wake-up, firing everything due on the way in order, as an
  `advance` would. This is the test clock that cannot deadlock: a blocking client reading
  a deck's stream sees it to the end, while nothing moves for a client that is not
  waiting (trio's autojump clock works the same way; here the waiting party is a client
  outside the event loop, so "waiting" is what the turn's readers say, see `watching`).

Future events are timers on a heap. `advance` fires every timer that falls due, in time
order, with the clock showing each timer's own time while it runs, and lets the tasks those
timers woke run until they wait on the clock again (or finish) before it returns. That is
what makes "advance 3 minutes" finish a turn paused for 3 minutes before the control
request answers. In ``real`` and ``scaled`` modes one `Driver` task per event loop fires
every clock's timers as wall time reaches them.

The clock is not thread-safe: it lives on the server's event loop.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, cast, get_args

from mock_pokee.domain.errors import BugReport, ClockError, log_bug
from mock_pokee.limits import MAX_SCALE, MAX_TIME

__all__ = ["CLOCK_MODES", "Clock", "ClockError", "ClockMode", "Driver", "Timer"]

ClockMode = Literal["real", "scaled", "virtual", "autojump"]
CLOCK_MODES: tuple[ClockMode, ...] = get_args(ClockMode)
FROZEN_MODES = frozenset({"virtual", "autojump"})  # clocks that move only when something moves them

# How long `advance` waits (in real seconds) for woken tasks to settle before it gives up
# on them; a task that waits on something other than the clock would otherwise hang it.
SETTLE_TIMEOUT = 5.0
DRIVER_RESTART = 0.1  # real seconds before a crashed driver starts again
# Real seconds a client must have waited, with nothing else awake, before the autojump
# clock jumps: long enough for the server to hear of a client that hung up at once.
AUTOJUMP_AFTER = 0.02


def _nothing() -> None:
    return None


def _show(value: object) -> str:
    """A refused number as a message shows it: a 401-digit integer is not printed whole."""
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:12]}… ({len(text)} characters)"


def check_scale(scale: float) -> None:
    """The one rule for a ``scaled`` clock's speed (the API and ``--scale`` alike)."""
    if not 0 < scale <= MAX_SCALE:  # also refuses NaN
        raise ClockError(
            f"scale: must be a number above 0 and at most {MAX_SCALE}, not {_show(scale)}"
        )


@dataclass(slots=True)
class Timer:
    """A callback due at a clock time. Cancelling leaves it on the heap, inert."""

    when: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        """Also lets go of the callback: a cancelled turn-timeout timer must not keep the
        finished turn's whole event log alive until its 90 minutes are up."""
        self.cancelled = True
        self.callback = _nothing


# Heap entries are plain tuples, compared in C: (when, insertion order, timer).
_Entry = tuple[float, int, Timer]
_MIN_COMPACT = 1024  # heap size below which cancelled timers are simply left to expire


class Clock:
    """A settable clock with a timer heap; see the module docstring."""

    def __init__(
        self,
        mode: ClockMode = "real",
        scale: float = 1.0,
        now: float | None = None,
        report: BugReport = log_bug,
    ):
        self._report = report
        self._timers: list[_Entry] = []
        self._compact_at = _MIN_COMPACT
        self.validate(mode, scale)
        self._mode: ClockMode = mode
        self._scale = scale
        self._anchor_clock = time.time() if now is None else now
        self._anchor_wall = time.monotonic()
        self._order = itertools.count()
        self._awake: set[asyncio.Task[object]] = set()
        self._settled = asyncio.Event()
        self._settled.set()
        self._advancing = asyncio.Lock()
        # autojump: tasks sleeping on the clock alone (→ their wake time), tasks a client
        # is waiting on (→ how many readers), the jump under way, and who hears of jumps
        self._sleepers: dict[asyncio.Task[Any], float] = {}
        self._watched: Counter[asyncio.Task[Any]] = Counter()
        self._jump: asyncio.Task[None] | None = None
        self._jump_soon: asyncio.TimerHandle | None = None
        self.on_jump: Callable[[float, float], None] | None = None

    # -- reading -----------------------------------------------------------------------

    @property
    def mode(self) -> ClockMode:
        return self._mode

    @property
    def scale(self) -> float:
        return self._scale

    @property
    def frozen(self) -> bool:
        """True in the modes where wall time does not move the clock."""
        return self._mode in FROZEN_MODES

    def now(self) -> float:
        """Clock time in epoch seconds."""
        if self.frozen:
            return self._anchor_clock
        rate = self._scale if self._mode == "scaled" else 1.0
        return self._anchor_clock + (time.monotonic() - self._anchor_wall) * rate

    def describe(self) -> dict[str, object]:
        """The C1 clock shape: ``{"mode", "scale", "now"}``."""
        return {"mode": self._mode, "scale": self._scale, "now": self.now()}

    def real_seconds(self, clock_seconds: float) -> float:
        """How much wall time a stretch of clock time takes in the current mode.

        Cosmetic pacing (C1) uses this: zero under the virtual and autojump clocks.
        """
        if self.frozen:
            return 0.0
        return clock_seconds / (self._scale if self._mode == "scaled" else 1.0)

    @property
    def pending(self) -> int:
        """Timers still due to fire."""
        return sum(1 for _, _, timer in self._timers if not timer.cancelled)

    # -- changing ----------------------------------------------------------------------

    def validate(
        self, mode: ClockMode | None = None, scale: float | None = None, now: float | None = None
    ) -> None:
        """Raise `ClockError` naming the problem if `set` would refuse these values.

        Moving time backwards is refused while timers are pending: they were scheduled
        against the later time and would fire out of order.
        """
        if mode is not None and mode not in CLOCK_MODES:
            raise ClockError(f"mode: must be one of {', '.join(CLOCK_MODES)}, not {_show(mode)}")
        if scale is not None:
            check_scale(scale)
        if now is not None and not 0 <= now <= MAX_TIME:  # also refuses NaN
            raise ClockError(
                f"now: must be between 0 and {MAX_TIME:.0f} (the end of year 9999), "
                f"not {_show(now)}"
            )
        if now is not None and now < self.now() and self.pending:
            raise ClockError(
                f"now: cannot move the clock back to {now} while {self.pending} timers are "
                "pending (sessions, turns); reset first"
            )

    def set(
        self, mode: ClockMode | None = None, scale: float | None = None, now: float | None = None
    ) -> None:
        """Change mode, scale and/or the current time (see `validate` for what is refused).

        Moving forwards this way does not fire timers itself; the driver (real, scaled) or
        the next `advance` fires what is overdue.
        """
        self.validate(mode, scale, now)
        current = self.now()
        if mode is not None:
            self._mode = mode
        if scale is not None:
            self._scale = scale
        self._anchor(current if now is None else now)
        self._kick_driver()

    def check_advance(self, seconds: float) -> None:
        """Raise `ClockError` if `advance` would refuse ``seconds``: the clock only moves
        forward, and not past `MAX_TIME`."""
        room = MAX_TIME - self.now()
        if not 0 <= seconds <= room:  # also refuses NaN
            raise ClockError(
                f"seconds: must be between 0 and {room:.0f} (the clock ends with year 9999), "
                f"not {_show(seconds)}"
            )

    async def advance(self, seconds: float) -> float:
        """Move forward by ``seconds``, firing due timers in order; returns the new now.

        Advances of one clock run one after another, never interleaved: two concurrent
        advances of 100 s move the clock 200 s.
        """
        async with self._advancing:
            self.check_advance(seconds)
            if self._awake:  # tasks started just now run up to their first wait on the clock
                await self._settle()
            target = self.now() + seconds
            await self._fire_due(until=target)
            if target > self.now():
                self._anchor(target)
            self._kick_driver()
            return self.now()

    # -- autojump ----------------------------------------------------------------------

    @contextmanager
    def watching(self, task: asyncio.Task[Any] | None) -> Iterator[None]:
        """Mark ``task`` as waited on by a client for as long as the block runs (a reader
        of a turn's stream waiting for its next event). Under the autojump clock, a task
        that is waited on and only sleeping on the clock is jumped to."""
        if task is None or task.done():
            yield
            return
        self._watched[task] += 1
        self._consider_jump()
        try:
            yield
        finally:
            self._watched[task] -= 1
            if self._watched[task] <= 0:
                del self._watched[task]
            if self._jump_soon is not None:  # a client left: its wait no longer counts
                self._jump_soon.cancel()
                self._jump_soon = None
                self._consider_jump()

    async def jump_for(self, task: asyncio.Task[Any] | None) -> bool:
        """A client polled and found ``task`` where it left it: under the autojump clock,
        if the task is sleeping on the clock and nothing else is awake, move to its
        wake-up now (firing everything due on the way) and let it run to its next wait.
        True if the clock moved."""
        if self._mode != "autojump" or task is None or task not in self._sleepers:
            return False
        async with self._advancing:
            return await self._jump_to(self._sleepers.get(task))

    def _consider_jump(self) -> None:
        """Look again whether to jump, once the waiting has lasted `AUTOJUMP_AFTER`: a
        client that hung up is a reader until the server hears of it, and that takes
        the event loop a moment."""
        if (
            self._mode == "autojump"
            and self._jump is None
            and self._jump_soon is None
            and self._watched
            and self._sleepers
        ):
            loop = asyncio.get_running_loop()
            self._jump_soon = loop.call_later(AUTOJUMP_AFTER, self._start_jump)

    def _start_jump(self) -> None:
        self._jump_soon = None
        if self._jump is None and self._jump_target() is not None:
            self._jump = asyncio.get_running_loop().create_task(self._jump_once())

    def _jump_target(self) -> float | None:
        """The earliest wake-up of a watched sleeping task, if nothing else is awake."""
        if self._mode != "autojump" or self._awake:
            return None
        due = [when for task, when in self._sleepers.items() if task in self._watched]
        return min(due, default=None)

    async def _jump_once(self) -> None:
        try:
            async with self._advancing:
                await self._jump_to(self._jump_target())
        except Exception as exc:  # a bug in the mock: reported; the clock stays usable
            self._report(exc)
        finally:
            self._jump = None
        self._consider_jump()  # the turn may be sleeping again, its reader waiting

    async def _jump_to(self, target: float | None) -> bool:
        if target is None or self._awake:
            return False
        before = self.now()
        target = max(target, before)
        if self.on_jump is not None:  # told first, so that it reads before what follows
            self.on_jump(before, target)
        await self._fire_due(until=target)
        if target > self.now():
            self._anchor(target)
        return True

    # -- scheduling --------------------------------------------------------------------

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` when the clock reaches ``when`` (at once on the next tick if past)."""
        timer = Timer(when, callback)
        earliest = not self._timers or when < self._timers[0][0]
        heapq.heappush(self._timers, (when, next(self._order), timer))
        if len(self._timers) > self._compact_at:
            self._compact()
        if earliest:
            self._kick_driver()
        return timer

    async def sleep_until(self, when: float) -> None:
        """Wait until the clock reaches ``when``.

        The waiting task is tracked: once a timer wakes it, `advance` waits for it to
        settle (wait on the clock again, or finish) before it returns. It is also a
        sleeper: under the autojump clock, a client waiting on it moves the clock.
        """
        task = asyncio.current_task()
        if task is None:
            await self.wait_until(asyncio.Event(), when)
            return
        self._sleepers[task] = when
        self._consider_jump()
        try:
            await self.wait_until(asyncio.Event(), when)
        finally:
            self._sleepers.pop(task, None)

    async def wait_until(self, event: asyncio.Event, when: float) -> bool:
        """Wait for ``event``, or until the clock reaches ``when``; True if the event came.

        Tracked like `sleep_until` when the clock is what wakes the task, so a reader that
        pings every 15 clock seconds pings twice in one 40-second advance.
        """
        if event.is_set():
            return True
        if when <= self.now():
            await asyncio.sleep(0)
            return event.is_set()
        task = asyncio.current_task()
        self._mark_settled(task)
        timed_out = False

        def wake() -> None:
            nonlocal timed_out
            if not event.is_set():
                timed_out = True
                event.set()
                self._mark_awake(task)

        timer = self.call_at(when, wake)
        try:
            await event.wait()
        finally:
            timer.cancel()
        return not timed_out

    def track(self, task: asyncio.Task[object]) -> None:
        """Count a new task as awake until it first waits on the clock (or ends), so that
        an `advance` right after it started does not run ahead of it."""
        self._mark_awake(task)

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self.now() + seconds)

    def _compact(self) -> None:
        """Drop cancelled timers (each stream's ping timer, each finished turn's timeout)
        once the heap has doubled since the last time; amortised, it costs nothing."""
        self._timers = [entry for entry in self._timers if not entry[2].cancelled]
        heapq.heapify(self._timers)
        self._compact_at = max(_MIN_COMPACT, 2 * len(self._timers))

    def close(self) -> None:
        """Drop every timer and stop the driver (a tenant reset)."""
        for _, _, timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._jump is not None:
            self._jump.cancel()
            self._jump = None
        if self._jump_soon is not None:
            self._jump_soon.cancel()
            self._jump_soon = None

    # -- internals ---------------------------------------------------------------------

    def _anchor(self, clock_time: float) -> None:
        self._anchor_clock = clock_time
        self._anchor_wall = time.monotonic()

    def _pop_due(self, until: float) -> Timer | None:
        while self._timers and self._timers[0][0] <= until:
            timer = heapq.heappop(self._timers)[2]
            if not timer.cancelled:
                return timer
        return None

    async def _fire_due(self, until: float) -> None:
        while (timer := self._pop_due(until)) is not None:
            if timer.when > self.now():
                self._anchor(timer.when)
            try:
                timer.callback()
            except Exception as exc:  # a bug in the mock: reported, and the clock goes on
                self._report(exc)
            if self._awake:
                await self._settle()

    async def _settle(self) -> None:
        """Let woken tasks run until they wait on the clock again. Only the virtual clock
        waits for that: under a real or scaled clock a turn's cosmetic pacing takes real
        time, and an advance must not wait it out; woken tasks take one step."""
        if not self.frozen:
            await asyncio.sleep(0)
            return
        try:
            await asyncio.wait_for(self._settled.wait(), SETTLE_TIMEOUT)
        except TimeoutError:
            self._awake.clear()
            self._settled.set()

    def _mark_awake(self, task: asyncio.Task[object] | None) -> None:
        if task is None or task.done():
            return
        if task not in self._awake:
            self._awake.add(task)
            task.add_done_callback(self._mark_settled)
        self._settled.clear()

    def _mark_settled(self, task: asyncio.Task[object] | None) -> None:
        self._awake.discard(cast("asyncio.Task[object]", task))
        if not self._awake:
            self._settled.set()
            self._consider_jump()

    def _kick_driver(self) -> None:
        """Tell the loop's `Driver` when this clock's earliest timer falls due in wall
        time (after a new earliest timer, or a change of mode or scale)."""
        if self.frozen:
            return
        while self._timers and self._timers[0][2].cancelled:  # inert: nothing to wait for
            heapq.heappop(self._timers)
        if not self._timers:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet (unit tests, setup); the driver is told on the next call
        wall_due = self._anchor_wall + self.real_seconds(self._timers[0][0] - self._anchor_clock)
        Driver.of(loop).arm(self, wall_due)

    async def drive(self) -> None:
        """Fire what is due now (the `Driver` calls this when this clock's time comes)."""
        if not self.frozen:
            async with self._advancing:
                await self._fire_due(until=self.now())
        self._kick_driver()


class Driver:
    """One task per event loop that fires the timers of every real or scaled clock as
    wall time reaches them. A task per clock would make every tenant with a timer pending
    (an idempotency key is kept 24 hours) hold a task for as long; here the tasks are one,
    and a clock that is gone (forgotten, reset) is held by nothing, not even this heap."""

    _of_loop: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Driver]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self._loop = loop
        self._heap: list[tuple[float, int, weakref.ref[Clock]]] = []
        self._armed: weakref.WeakKeyDictionary[Clock, float] = weakref.WeakKeyDictionary()
        self._order = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> Driver:
        driver = cls._of_loop.get(loop)
        if driver is None:
            driver = cls._of_loop[loop] = cls(loop)
        return driver

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    def arm(self, clock: Clock, wall_due: float) -> None:
        """Drive ``clock`` at ``wall_due`` (monotonic seconds), replacing an earlier arm."""
        if self._armed.get(clock) == wall_due:
            return
        self._armed[clock] = wall_due
        earliest = not self._heap or wall_due < self._heap[0][0]
        heapq.heappush(self._heap, (wall_due, next(self._order), weakref.ref(clock)))
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(self._run())
        elif earliest:
            self._wakeup.set()

    async def _run(self) -> None:
        while self._heap:
            self._wakeup.clear()
            wall_due, _, ref = self._heap[0]
            clock = ref()
            if clock is None or self._armed.get(clock) != wall_due:
                heapq.heappop(self._heap)  # gone, or armed again since
                continue
            delay = wall_due - time.monotonic()
            if delay > 0:
                with suppress(TimeoutError):  # or woken early: a new earliest arm
                    async with asyncio.timeout(delay):  # no task of its own, as wait_for makes
                        await self._wakeup.wait()
                continue
            heapq.heappop(self._heap)
            del self._armed[clock]
            try:
                await clock.drive()
            except Exception as exc:  # a bug in the mock: reported; the clock drives on
                clock._report(exc)
                self._loop.call_later(DRIVER_RESTART, clock._kick_driver)
        self._task = None
