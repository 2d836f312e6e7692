"""Pacing to Slack's real limits: send slots per workspace and method, at a rate learned from 429s.

Slack limits calls per app, per workspace and per method; `Retry-After` is whole seconds (at
least 1), and how big a burst it grants is not published. Pausing after each 429 is not enough:
with a burst of a few messages, every 429 stops the senders for a second while Slack's allowance
refills only those few, so a fan-out crawls at a fraction of the allowed rate. Instead the sender
paces *ahead* of the limit: calls go out in evenly spaced slots at a rate learned from the 429s.

How the rate is learned (the state machine is `Allowance`, pure and driven by a given clock):

- Nothing known: calls go out unpaced. Most workspaces never see a 429 and never pay for pacing.
- At a 429 every sender for that (workspace, method) pauses for `Retry-After`, and the rate is
  set from what Slack accepted. A token bucket of rate r and burst b accepts at most
  b + r·(t - a) calls in any span [a, t], so when it refuses at t, for every earlier instant a,
  r >= (accepted(a, t) - b) / (t - a); after a refusal at t0 the bucket was empty, so also
  r >= (accepted(t0, t) - 1) / (t - t0). The largest of those lower bounds, less a small margin,
  is the new pace. b is taken as the burst Slack granted before the very first 429 (an
  overestimate, which only makes the bound safer), then, while learning, as what that bounds it
  by given the rate's bound (less Slack's refill while the first burst went out: see
  `burst_upper_bound`; a tighter rate bound, a tighter burst). Each call counts at the time it was *sent*:
  Slack took it between then and the refusal, so answers bunched on their way back cannot make
  the bound exceed what Slack allows, and a span across a pause counts only the time spent
  sending (plus one more burst per pause: the bucket refilled meanwhile).
- Between 429s the pace grows slot by slot: fast until the first estimate (stage 0), moderately
  until a second, tighter one (stage 1), then it settles. How tight an estimate is shows in the
  window behind the bound (within about one call per that many seconds), so a bound precise
  enough settles at once: every 429 more to learn from costs a second's pause.
- Settled, the pace creeps up by a fraction of a percent per second of sending (faster if it
  settled on a rough bound, LOOSE), so what the estimate was short of is made up and a limit
  Slack raises is found again. A 429 at a settled pace is most often a clump (senders woken
  late, one slow request, then several at once), which a small burst cannot absorb, or a pace
  that crept just over: the pace goes no higher than what Slack was seen to accept, without a
  margin, and no single 429 takes more than a step off a proven pace unless its bound is
  precise (lowering it at every clump would ratchet it far under the limit). Once the pace
  crossed the limit (Slack took less than the pace), the rate is known: it stops creeping
  (CONFIRMED), or it would cross again every few seconds.
- With a burst of a few calls, only one call fewer than the burst is on its way at once: calls
  sent concurrently can reach Slack bunched, and with a burst of two, three at once is a 429
  whatever the pace. The next call goes out a gap after the last *answer* (a call Slack took
  late is answered late, so the next cannot reach Slack on its heels), and a whole interval
  after the last call let go (a sender behind the schedule loses the late slot rather than
  catching up a little over the pace). Calls let go here keep a minimum spacing otherwise.

Several instances sending to one workspace share one `Allowance` per (workspace, method) through
the database (storage.repositories.SlackPacing): the learned rate, the pause, and the schedule
of slots itself, which each instance leases a fraction of a second at a time (one round trip per
lease, not per message), taking the next share while some of this one is still ahead (a share
taken only once the last ran out starts late, and its first slots are gone before anyone uses
them). Together they pace at the workspace's rate, and each sees the others' pauses at its next
lease at the latest.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from bisect import bisect_left, bisect_right, insort
from collections import deque
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Callable, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot import metrics
from storage.repositories.slack_pacing import SlackPacing
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

# Pace growth between 429s: per second of sending at stage 0 and 1, a fraction per second after.
STAGE_GROWTH = (16.0, 1.25)
# Settled stages, by how well the rate is known: each creeps up at its own fraction per second of
# sending, to close what the estimate may be short of without crossing the limit every few seconds.
SETTLED, CONFIRMED, LOOSE = len(STAGE_GROWTH), len(STAGE_GROWTH) + 1, len(STAGE_GROWTH) + 2
CREEP = {SETTLED: 0.002, CONFIRMED: 0.0002, LOOSE: 0.005}
LOOSE_SPREAD = 0.025  # a bound less precise than this settles LOOSE
CLUMP = 0.99  # a 429 at a settled pace after Slack took this much of it all along: a clump
SETTLED_STEP = 0.99  # the most one 429 takes off a settled pace
MARGIN = 0.97  # pace this far under the learned lower bound: jitter must not tip it over
SETTLE_MARGIN = 0.99  # ... and this far once settled (a 429 then lowers it to what Slack took)
SETTLE_SPREAD = 0.04  # a bound this precise (a fraction of it) is settled on at once
LEASE_SECONDS = 0.25  # how much of the schedule an instance takes at once
# ... and takes the next share while this much of it is still ahead (up to all but one slot of
# it): a lease is a write transaction, which on SQLite waits for the write lock while the
# claims, records and leases of every workspace's senders take turns with it.
LEASE_AHEAD_SECONDS = 0.3
MIN_LEASE_SLOTS = 4  # at a slow pace, fewer round trips to the database (each one a write)
# Bounds on a pace that kept growing with no 429 to stop it (stage 0 grows 16x a second): a
# stored rate of thousands a second made the next process lease millions of slots at once (13 GB
# in minutes). No Slack method allows a workspace anything near these.
MAX_RATE = 1000.0
MAX_LEASE_SLOTS = 256
LEASE_POLL = 0.002  # a sender with no slot waits this long for another sender's lease
SMALL_BURST = 4  # a burst this small limits how many calls are on their way at once
IN_FLIGHT_POLL = 0.001
MAX_IN_FLIGHT_WAIT = 0.25
# With a burst of a few calls, the next call goes out no sooner than the interval less a usual
# round trip after the last answer (not only after the last call was let go): a call Slack took
# late (a slow connection, a busy server) is answered late too, so the next one cannot reach
# Slack on its heels. Counted from the let-go time alone, a late call and the next one on
# schedule arrive together, and with a burst of two a second such pair within a few calls is a
# 429 and a second's pause. (A fixed share of the interval instead cost a round trip per call:
# at 10 ms round trips, 27 ms between calls paced 22 ms apart.)
RTT_WEIGHT = 0.1  # of each new round trip in the usual one (an exponential moving average)
MIN_WINDOW = 0.1  # lower bounds over shorter spans say too little to use
CALM_SECONDS = 10.0  # a 429 at a settled pace lowers it only if another came less than this long ago
HISTORY_SECONDS = 30.0
# While learning, the burst is bounded better at each 429 (see burst_upper_bound): only within
# this long of the first, while the calls before it are still in the history.
BURST_REFINE_SECONDS = 20.0
BURST_REFINE_TURNS = 4
FALLBACK_DECREASE = 0.5  # when the acceptances say nothing useful: halve
SETTLED_TRUST = 0.9  # a settled pace was proven: a bound under 90% of it is too little history, not news
MIN_RATE = 0.2
RECUR_SECONDS = 0.5  # a 429 this soon after a pause ended ...
RECUR_STEP = 0.9  # ... takes this much off a settled pace
MIN_SPACING = 0.85  # of the interval between slots, between two calls let go here
# ... and with a burst of a few calls, the whole interval: a sender that fell behind the schedule
# must not catch up (a run of calls a little closer than the pace is a run a little over it, and
# a bucket of two has nothing to absorb it with); a late slot is time lost, far less than a 429.
SMALL_BURST_SPACING = 1.0


@dataclass(frozen=True)
class Allowance:
    """What is known and shared about one (workspace, method): plain values, times in epoch seconds.

    `rate` None means no 429 has been seen: no pacing. `next_slot` is the first slot of the
    schedule nobody has taken; `issued` counts every slot taken so far (by all instances), so an
    instance can tell how much of the schedule the others used.
    """

    rate: float | None = None
    burst: float | None = None
    stage: int = 0
    paused_until: float = 0.0
    next_slot: float = 0.0
    issued: int = 0
    last_refusal: float | None = None

    def lease(self, now: float, count: int) -> tuple["Allowance", list[float]]:
        """Take `count` slots from the schedule: (new state, the slots' times).

        The pace grows with the slots taken (seconds of sending, not of waiting), slot by slot:
        a ramp in steps of a whole lease would cross Slack's rate by up to a lease's growth, and
        the steeper it crosses, the sooner the bucket is empty and the less the 429 tells."""
        start = max(self.next_slot, now, self.paused_until)
        if self.rate is None:
            return replace(self, issued=self.issued + count), []
        rate, at, times = self.rate, start, []
        for _ in range(count):
            times.append(at)
            step = 1.0 / rate
            at += step
            if self.stage < SETTLED:
                rate = min(MAX_RATE, rate * STAGE_GROWTH[self.stage] ** step)
            else:
                rate = min(MAX_RATE, rate * (1 + CREEP.get(self.stage, CREEP[SETTLED]) * step))
        return replace(self, rate=rate, next_slot=at, issued=self.issued + count), times

    def refused(self, now: float, retry_after: float, lower_bound: float | None,
                first_burst: int, spread: float | None = None,
                since_pause: float | None = None) -> "Allowance":
        """A 429 at `now`: pause for `retry_after` and pace at what Slack was seen to accept.

        A 429 for a call sent before a pause already in force (or sent in the same instant as
        the one that started it) belongs to that pause and changes nothing else. `spread` is how
        far above the bound the rate may be, as a fraction of it (None: not known);
        `since_pause`, how many calls Slack took since the last pause ended (None: not known)."""
        resume = now + retry_after
        if now < self.paused_until or resume <= self.paused_until:
            return self
        burst = self.burst if self.burst is not None else float(max(1, first_burst))
        if self.rate is None:
            # The first 429: what got through before it is all we know; stage 0 ramps up fast.
            rate, stage = max(first_burst / retry_after, lower_bound or 0.0, 1.0), 0
        elif (self.stage >= SETTLED and 0.0 <= now - self.paused_until < RECUR_SECONDS
              and since_pause is not None and since_pause >= burst):
            # Refused again right after a pause, after Slack took a burst's worth since: the
            # bucket was full when the pause ended (it refilled all along), so the senders spent
            # it and more in a fraction of a second. That is a pace over Slack's rate, whatever
            # the bound says (instances scaling their calls by each other's leases can see a bound
            # far over it): a step off every time. (Not for a lone call refused again and again,
            # Slack's limit per channel: nothing else was spent, and a step per retry would
            # ratchet the workspace's pace to nothing.)
            rate, stage = self.rate * RECUR_STEP, CONFIRMED
        elif self.stage >= SETTLED:
            # A 429 at a settled pace: the pace crept just over the limit, or a clump (senders
            # woken late, a slow request, then several at once), which a small burst cannot
            # absorb. Either way the pace goes no higher than what Slack was seen to accept,
            # without a margin (it did accept that; over a long window the bound is the pace
            # less a call or two, so a clump costs next to nothing), and stops creeping: the
            # rate is known now, and creeping over it again would be a 429 every few seconds.
            # A bound far under the pace says only that there was too little history (right
            # after a start): a lone 429 then changes nothing, one soon after another takes a
            # margin off.
            # (A bound from a long window is news however far under the pace: a pace creeping
            # for long over the limit ends far over it when the bucket is large.)
            informative = lower_bound is not None and (lower_bound >= SETTLED_TRUST * self.rate
                                                       or (spread is not None and spread <= SETTLE_SPREAD))
            lone = self.last_refusal is None or now - self.last_refusal >= CALM_SECONDS
            if informative:
                # Slack took (nearly) the whole pace all along: a clump, and the pace keeps
                # creeping; less: the pace crossed the limit, and the bound is the rate.
                # A settled pace was proven over many calls: unless the bound is precise (a
                # long window: the pace crept far over a large burst), one 429 proves it at
                # most a little over (the bounds of several instances, each scaling its own
                # calls to the workspace's, can be far under), and takes at most a step off.
                # (Never when creeping fast: over a large burst the pace runs far over the limit
                # before the bucket is empty, and Slack was then taking nearly all of it.)
                clump = lower_bound >= CLUMP * self.rate and self.stage != LOOSE
                precise = spread is not None and spread <= SETTLE_SPREAD
                rate = min(self.rate, lower_bound) if precise else \
                    max(min(self.rate, lower_bound), self.rate * SETTLED_STEP)
                stage = self.stage if clump else CONFIRMED
            else:
                rate, stage = (self.rate if lone else self.rate * SETTLED_STEP), self.stage
        else:
            # The bound is what Slack was seen to accept, so it is safe however far below the
            # pace it is; a pace that overshot in stage 0 may be ten times the limit. Later, a
            # bound far below the pace says only that there was little history to go on (a
            # fresh process): halve while learning.
            # A bound from a long enough window is the rate to within a few percent: settle at
            # once (each 429 more to learn from costs a second's pause); else ramp again, slower.
            if lower_bound is None:
                # Nothing sent here yet to bound the rate by (a fresh process, still ramping on
                # what an earlier one learned): pause, and go on as before; halving here cut a
                # proven pace in half for the whole of the next pass.
                return replace(self, burst=burst, paused_until=resume, next_slot=resume, last_refusal=now)
            useful = lower_bound >= (0.25 if self.stage else 0.0) * self.rate
            precise = useful and spread is not None and spread <= SETTLE_SPREAD
            stage = SETTLED if precise else min(self.stage + 1, SETTLED)
            margin = SETTLE_MARGIN if stage == SETTLED else MARGIN
            if stage == SETTLED and (spread is None or spread > LOOSE_SPREAD):
                stage = LOOSE  # settled on a rough bound (a clump cut the ramp short): creep faster
            rate = min(self.rate, lower_bound * margin if useful else self.rate * FALLBACK_DECREASE)
        return replace(self, rate=max(rate, MIN_RATE), burst=burst, stage=stage, paused_until=resume,
                       next_slot=resume, last_refusal=now)


def lower_bound(accepted: list[float], now: float, burst: float | None, last_refusal: float | None,
                scale: Callable[[float], float] = lambda since: 1.0,
                pauses: tuple[tuple[float, float, float], ...] = ()) -> float | None:
    found = bound_and_span(accepted, now, burst, last_refusal, scale, pauses)
    return found[0] if found is not None else None


def bound_and_span(accepted: list[float], now: float, burst: float | None, last_refusal: float | None,
                   scale: Callable[[float], float] = lambda since: 1.0,
                   pauses: tuple[tuple[float, float, float], ...] = ()) -> tuple[float, float] | None:
    """The largest rate Slack must allow, given it accepted calls sent at `accepted` (sorted) and
    refused one at `now` (see the module docstring). `scale(a)` turns this instance's acceptances
    since `a` into the workspace's (other instances took slots of the same schedule).

    Times are when each call was *sent*: Slack accepted it between then and `now`, so the bound
    holds however the answers bunched on the way back. `pauses` are (start, end, slack): nothing
    was sent between start and end, after which the bucket held at most `burst` again, and up to
    `slack` calls sent before it may have been taken after it began; a span across a pause counts
    only the time spent sending, and one burst (plus the slack) more per pause.

    With the bound comes the sending time its window spans: the bound is within about one call
    per that many seconds of the true rate (how full the bucket was at the refusal is not known
    to better than one call), so a long window is a precise bound."""
    best, best_span = None, 0.0
    count = len(accepted)
    if last_refusal is not None and now - last_refusal >= MIN_WINDOW:
        since = count - bisect_right(accepted, last_refusal)
        # (Across the pause that followed, not a tight bound: no span to claim precision by.)
        best = (since * scale(last_refusal) - 1) / (now - last_refusal)
    if burst is not None:
        for index in range(count):
            start = accepted[index]
            idle, extra = 0.0, 0.0
            for begin, end, slack in pauses:
                if end > start and begin < now:
                    idle += min(end, now) - max(begin, start)
                    extra += burst + slack
            span = now - start - idle
            if span < MIN_WINDOW:
                break
            bound = ((count - index) * scale(start) - burst - extra) / span
            if best is None or bound > best:
                best, best_span = bound, span
    return (best, best_span) if best is not None and best > 0 else None


def burst_upper_bound(first_sends: list[float], first_refusal: float, rate: float) -> float:
    """The most Slack's burst can be, given it refused a call at `first_refusal` after taking the
    calls sent at `first_sends` (sorted, all before it) and that its rate is at least `rate`.

    At a refusal the bucket held less than one call: for the last instant a it was full,
    burst + rate·(t - a) - accepted(a, t) < 1. That instant is among the sends (or the bucket was
    never full, and any of them bounds it the more), so the burst is under the largest of
    accepted(a, t) + 1 - rate·(t - a). With a lower bound for the rate this is an upper bound for
    the burst, safe to compute the rate's lower bound with, and far tighter than everything the
    first burst took: unpaced calls go out for a fraction of a second before the first 429, and
    Slack's refill meanwhile (rate·that) is most of the overestimate with a small burst."""
    count = len(first_sends)
    return max(count - index + 1 - rate * (first_refusal - sent) for index, sent in enumerate(first_sends))


def refine_burst(accepted: list[float], first_refusal: float, burst: float, found: tuple[float, float],
                 bound_for: Callable[[float], tuple[float, float] | None]) -> tuple[float, tuple[float, float]]:
    """(burst, (bound, span)) refined in turns: a higher rate bound is a lower burst bound, which
    is a higher rate bound again. Each is a bound that holds, so the turns only tighten them."""
    first_sends = accepted[:bisect_right(accepted, first_refusal)]
    if not first_sends:
        return burst, found
    for _ in range(BURST_REFINE_TURNS):
        tighter = max(1.0, burst_upper_bound(first_sends, first_refusal, found[0]))
        if tighter >= burst - 0.5:
            break
        again = bound_for(tighter)
        if again is None or again[0] < found[0]:
            break
        burst, found = tighter, again
    return burst, found


class SharedAllowances(Protocol):
    """Where the allowances live (in memory for one process, or in the database for several)."""

    def exchange(self, team_id: str, method: str, change: Callable[[Allowance], tuple[Allowance, object]]) -> object:
        """Apply `change` to the (team, method) allowance atomically; return its second value."""


class LocalAllowances:
    """Allowances shared by the threads of one process only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str], Allowance] = {}

    def exchange(self, team_id, method, change):
        with self._lock:
            state, result = change(self._states.get((team_id, method), Allowance()))
            self._states[(team_id, method)] = state
            return result

    def get(self, team_id: str, method: str) -> Allowance:
        with self._lock:
            return self._states.get((team_id, method), Allowance())


class DatabaseAllowances:
    """Allowances in the database, shared by every instance: one short write transaction per
    exchange (a lease of a fraction of a second's slots, or a 429)."""

    _FIELDS = ("rate", "burst", "stage", "paused_until", "next_slot", "issued", "last_refusal")

    def __init__(self, uow: UnitOfWork):
        self.uow = uow

    def exchange(self, team_id, method, change):
        with self.uow.writing() as session:
            row = SlackPacing(session).locked(team_id, method, datetime.now(UTC))
            state, result = change(Allowance(**{name: getattr(row, name) for name in self._FIELDS}))
            for name in self._FIELDS:
                setattr(row, name, getattr(state, name))
            return result


class _Key:
    """This instance's view of one (workspace, method): its leased slots and what Slack accepted."""

    def __init__(self) -> None:
        # Each (workspace, method) has a lock of its own: a lease is a database round trip, and
        # one workspace's must never hold up another's senders (a pass sends to many at once).
        self.lock = threading.Lock()
        self.slots: deque[float] = deque()
        self.interval = 0.0
        self.lease_until = 0.0
        self.leasing = False  # a sender is fetching the next share of the schedule
        self.checked = False  # the shared state was read at least once
        self.burst = None  # the burst Slack grants, as learned
        self.last_sent = 0.0  # when the last paced call here was let go  # with no pacing: when to look at the shared state again
        self.paused_until = 0.0
        self.generation = 0  # bumped by every pause: slots granted before it are void
        self.accepted: list[float] = []  # when each call Slack accepted was sent, in order
        self.in_flight = 0  # calls let go and not answered yet
        self.last_answer = 0.0  # when Slack's last answer (or a failed connection) came back
        self.round_trip = 0.0  # a usual call's, from let go to answer (moving average)
        self.pauses: deque[tuple[float, float, float]] = deque()  # (from, until, calls then in flight)
        self.first_burst = 0
        # The burst written at this instance's first 429 counted every call then in flight; most
        # of those come back 429 too. Calls sent before that 429 and accepted are what Slack granted.
        self.first_refusal: float | None = None
        self.burst_written: float | None = None
        self.burst_seen = 0
        self.rate_known = False
        self.leases: deque[tuple[float, int, int]] = deque()  # (at, issued before, count)
        self.own_slots: deque[float] = deque()


class Pacer:
    """Send slots per (workspace, method), safe to share between threads; see the module docstring.

    `slot()` blocks until the caller may send; `accepted()` and `refused()` report what Slack said.
    The clock and sleep are injected so tests run on a fake clock.
    """

    def __init__(self, shared: SharedAllowances | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self.shared = shared if shared is not None else LocalAllowances()
        self._clock = clock
        self._sleep = sleep
        self._keys_lock = threading.Lock()  # only to add a key; each key has its own lock
        self._keys: dict[tuple[str, str], _Key] = {}
        self._sent = threading.local()  # when this thread's last call was let go
        self.rate_limited = 0

    def _key(self, team_id: str, method: str) -> _Key:
        key = self._keys.get((team_id, method))
        if key is None:
            with self._keys_lock:
                key = self._keys.setdefault((team_id, method), _Key())
        return key

    def slot(self, team_id: str, method: str) -> float:
        """Return when a call to `method` in `team_id` may go out (pauses and pace honoured): the
        time it was let go. Report the answer with `accepted()` or `refused()` from the same thread."""
        self._wait_for_slot(team_id, method)
        key = self._key(team_id, method)
        # How long this sender waited in all, and how long of it for calls on their way: a sender
        # that spent most of a slow interval on the answer clock must still wait for a call let
        # go meanwhile (with a burst of two, a second call on its way is a 429 in the making).
        waited = blocked = 0.0
        while True:
            with key.lock:
                limit = self._in_flight_limit(key)
                now = self._clock()
                # (A call whose answer never came must not hold the others up for long.)
                # Only a call nothing has been heard of for that long (no answer, nothing let go)
                # is taken as lost: a sender that lost the race for the free place to the others
                # for a while is no reason to have two on their way.
                quiet = now - max(key.last_answer, key.last_sent) >= MAX_IN_FLIGHT_WAIT
                free = limit is None or key.in_flight < limit or (blocked >= MAX_IN_FLIGHT_WAIT and quiet)
                # (An answer "after now" is a wall clock set back: counted as now, not waited for.)
                key.last_answer = min(key.last_answer, now)
                clocked = 0.0 if limit is None or waited >= MAX_IN_FLIGHT_WAIT else \
                    key.last_answer + max(0.0, key.interval - key.round_trip) - now
                if free and clocked <= 0:
                    if limit is not None and key.in_flight >= limit:
                        # Waited out: the oldest call is taken as lost (its thread died, or never
                        # reported), or every later call would wait MAX_IN_FLIGHT_WAIT for it too.
                        key.in_flight = limit - 1
                    key.in_flight += 1
                    key.last_sent = max(key.last_sent, now)
                    self._sent.at = now
                    return now
            pause = clocked if free else IN_FLIGHT_POLL
            self._sleep(pause)
            waited += pause
            if not free:
                blocked += pause

    @staticmethod
    def _in_flight_limit(key: _Key) -> int | None:
        """How many calls may be on their way at once: with a burst of a few calls, one fewer.

        Calls sent concurrently can reach Slack bunched (a stalled connection, a busy server,
        answered in a clump), and with a burst of two, three at once is a 429 and a second's
        pause whatever the pace; a call sent only once the one before it was answered cannot
        be bunched with it. With a larger burst, or while nothing is known, no limit."""
        if not key.rate_known or key.burst is None or key.burst > SMALL_BURST:
            return None
        return max(1, int(key.burst) - 1)

    def released(self, team_id: str, method: str) -> None:
        """A call let go that Slack may never have seen (the connection failed): no longer on its way."""
        key = self._key(team_id, method)
        with key.lock:
            key.in_flight = max(0, key.in_flight - 1)
            key.last_answer = self._clock()

    def _wait_for_slot(self, team_id: str, method: str) -> None:
        key = self._key(team_id, method)
        while True:
            wait, generation, is_slot = self._reserve(team_id, method, key)
            if is_slot is None:
                return  # no pacing (yet): go
            if wait > 0:
                self._sleep(wait)
            if not is_slot:
                continue  # waited out a pause (or for a lease): now queue for a slot like everyone else
            with key.lock:
                now = self._clock()
                if key.generation != generation or now < key.paused_until:
                    continue
                # A sender woken late (a busy interpreter, a slow thread), or whose slot had
                # already come when it asked, must not go out on the heels of the one before:
                # with a burst of two, three close together is a 429.
                spacing = MIN_SPACING if self._in_flight_limit(key) is None else SMALL_BURST_SPACING
                gap = key.last_sent + spacing * key.interval - now
                if gap <= 0:
                    key.last_sent = now
                    return
                key.last_sent = now + gap
            self._sleep(gap)
            return

    def wait_for_pause(self, team_id: str, method: str) -> None:
        """Return once no pause is in force for (team, method), taking no slot."""
        key = self._key(team_id, method)
        while True:
            with key.lock:
                remaining = key.paused_until - self._clock()
            if remaining <= 0:
                return
            self._sleep(remaining)

    def _reserve(self, team_id: str, method: str, key: _Key) -> tuple[float, int, bool | None]:
        """(seconds to wait, pause generation, whether the wait ends in a slot of one's own; None:
        no pacing, go now). Leases the next share of the schedule before this one runs out."""
        with key.lock:
            now = self._clock()
            if now < key.paused_until:
                return key.paused_until - now, key.generation, False
            while key.slots and key.slots[0] < now - key.interval:
                key.slots.popleft()  # a slot nobody used in time is gone: no burst to catch up
            lease = not key.leasing and (key.rate_known or now >= key.lease_until) and \
                len(key.slots) <= self._low_water(key)
            if lease:
                key.leasing = True
            elif not key.slots:
                if key.leasing and (key.rate_known or not key.checked):
                    # Another sender is leasing (or asking for the first time whether this
                    # workspace is paced at all: a fresh process must not burst at a known
                    # limit while it asks): wait for its answer.
                    return LEASE_POLL, key.generation, False
                return 0.0, key.generation, None
            at = key.slots.popleft() if key.slots else None
            if at is not None:
                key.own_slots.append(at)
            generation = key.generation
        if lease:
            # The round trip to the database happens outside the lock: the other senders keep
            # taking the slots still held meanwhile, and this one waits for its own slot anyway.
            try:
                self._lease(team_id, method, key, now)
            finally:
                with key.lock:
                    key.leasing = False
            if at is None:
                return 0.0, generation, False  # had none: take one of the new ones (or go unpaced)
        return at - self._clock(), generation, True

    @staticmethod
    def _low_water(key: _Key) -> int:
        """Lease again once this few slots are left: the next share is there before this one ends."""
        if not key.interval:
            return 0
        return min(Pacer._lease_count(key) - 1, max(1, math.ceil(LEASE_AHEAD_SECONDS / key.interval)))

    def _lease(self, team_id: str, method: str, key: _Key, now: float) -> None:
        with key.lock:
            count = self._lease_count(key)

        def take(state: Allowance):
            new, times = state.lease(now, count) if state.rate is not None else (state, [])
            return new, (times, state.rate is not None, state.paused_until, state.issued, new.rate, state.burst)

        times, paced, paused_until, issued, rate, burst = self.shared.exchange(team_id, method, take)
        with key.lock:
            key.checked = True
            if paused_until < key.paused_until:
                # A 429 here overtook this lease on its way: what it read is from before that
                # pause (its slots fall inside it, its pace is the one just refused).
                return
            if paused_until > key.paused_until:
                # Another instance's pause: nothing goes out from here until it ends (it began
                # earlier, but what was sent here meanwhile counts as sending time).
                key.pauses.append((max(now, key.paused_until), paused_until, float(key.in_flight)))
                key.paused_until = paused_until
                key.generation += 1
                key.slots.clear()
            key.rate_known = paced
            key.burst = burst
            if not paced:
                key.lease_until = now + LEASE_SECONDS
                return
            key.interval = 1.0 / rate
            # A 429 here while the lease was on its way voids slots before the pause it began.
            key.slots.extend(at for at in times if at >= key.paused_until)
            key.leases.append((now, issued, count))
            self._forget(key, now)

    @staticmethod
    def _lease_count(key: _Key) -> int:
        if not key.interval:
            return MIN_LEASE_SLOTS
        return min(MAX_LEASE_SLOTS, max(MIN_LEASE_SLOTS, math.ceil(LEASE_SECONDS / key.interval)))

    def accepted(self, team_id: str, method: str) -> None:
        """Slack accepted a call (any answer but 429 counts: it took from the allowance)."""
        key = self._key(team_id, method)
        with key.lock:
            now = self._clock()
            key.in_flight = max(0, key.in_flight - 1)
            key.last_answer = now
            sent = min(getattr(self._sent, "at", now), now)
            key.round_trip += RTT_WEIGHT * (now - sent - key.round_trip)
            insort(key.accepted, sent)
            if key.first_refusal is not None and sent <= key.first_refusal:
                key.burst_seen += 1
            if not key.rate_known:
                key.first_burst += 1
            self._forget(key, now)

    def refused(self, team_id: str, method: str, retry_after: float) -> None:
        """Slack answered 429: pause every sender for `retry_after` and learn the rate from it."""
        key = self._key(team_id, method)
        with self._keys_lock:
            self.rate_limited += 1
        with key.lock:
            now = self._clock()
            key.in_flight = max(0, key.in_flight - 1)
            key.last_answer = now
            accepted = list(key.accepted)
            scale = self._scale(key)
            # Calls still in flight may have been taken before this refusal: the burst Slack
            # granted before its first 429 was at least what was answered so far.
            first_burst = key.first_burst + key.in_flight
            pauses = tuple(key.pauses)
            burst_written, burst_seen = key.burst_written, key.burst_seen
            first_refusal = key.first_refusal

            def refuse(state: Allowance):
                burst = state.burst
                ours = burst is not None and burst == burst_written
                if ours:
                    burst = min(burst, float(max(1, burst_seen)))  # our own estimate, now known better
                found = bound_and_span(accepted, now, burst, state.last_refusal, scale,
                                       pauses) if state.rate is not None else None
                if ours and found is not None and first_refusal is not None \
                        and now - first_refusal <= BURST_REFINE_SECONDS:
                    burst, found = refine_burst(accepted, first_refusal, burst, found,
                                                lambda b: bound_and_span(accepted, now, b, state.last_refusal,
                                                                         scale, pauses))
                bound = found[0] if found is not None else None
                spread = 1.0 / (found[0] * found[1]) if found is not None and found[1] > 0 else None
                # What Slack took since the last pause ended, as the workspace's calls.
                ended = state.paused_until
                since_pause = (len(accepted) - bisect_left(accepted, ended)) * scale(ended) if ended else None
                new = state.refused(now, retry_after, bound, first_burst, spread, since_pause)
                if new is not state and state.burst is not None:
                    new = replace(new, burst=burst)
                if new is not state and ours and burst != state.burst:
                    return new, (new, None)
                return new, (new, state.rate is None and new is not state)

            state, first = self.shared.exchange(team_id, method, refuse)
            if first:
                key.first_refusal, key.burst_written, key.burst_seen = now, state.burst, key.first_burst
            elif first is None:
                key.burst_written = state.burst  # refined here: still ours to refine at the next 429
            elif key.burst_written is not None and state.burst != key.burst_written:
                key.burst_written = None  # corrected (or set by another instance): nothing more to fix
            added = max(0.0, state.paused_until - max(key.paused_until, now))
            if added:
                key.pauses.append((max(key.paused_until, now), state.paused_until, float(key.in_flight)))
            key.paused_until = max(key.paused_until, state.paused_until)
            key.slots.clear()
            key.generation += 1
            key.rate_known = state.rate is not None
            key.burst = state.burst
            key.interval = 1.0 / state.rate if state.rate else 0.0
            if state.last_refusal == now:
                logger.info("Slack rate-limited %s in %s: pausing %.0f s, pacing at %.1f/s (burst %s, stage %d)",
                            method, team_id, retry_after, state.rate, state.burst, state.stage)
        metrics.SLACK_RATE_LIMITED.labels(metrics.SENDERS).inc()
        metrics.SLACK_PAUSED_SECONDS.labels(metrics.SENDERS).inc(added)

    def _scale(self, key: _Key) -> Callable[[float], float]:
        """How many calls the workspace made since `a` per call of this instance: 1 plus the slots
        other instances leased from the shared schedule meanwhile, per call made here."""
        leases = list(key.leases)
        if not leases:
            return lambda since: 1.0
        total_now = leases[-1][1] + leases[-1][2]
        starts = [at for at, _, _ in leases]

        def scale(since: float) -> float:
            index = bisect_left(starts, since)
            if index >= len(leases):
                return 1.0
            leased = sum(count for _, _, count in leases[index:])
            others = total_now - leases[index][1] - leased
            # The others' slots are what they leased, not what they sent: a slot leased ahead and
            # never used (its sender paused, or waiting on the database) was never a call. Take
            # them to use their share as this instance used its own: the workspace sent this
            # instance's calls times (all slots leased / this instance's).
            return 1.0 + max(0, others) / leased if leased else 1.0
        return scale

    @staticmethod
    def _forget(key: _Key, now: float) -> None:
        horizon = now - HISTORY_SECONDS
        if key.accepted and key.accepted[0] < horizon:
            del key.accepted[:bisect_left(key.accepted, horizon)]
        while key.own_slots and key.own_slots[0] < horizon:
            key.own_slots.popleft()
        for log in (key.leases, key.pauses):
            while log and log[0][0] < horizon:
                log.popleft()


class PacedRateLimitRetryHandler(RetryHandler):
    """slack-sdk retry handler: a 429 is reported to the pacer (pause, learn) and retried in a slot."""

    def __init__(self, pacer: Pacer, team_id: Callable[[], str], max_retry_count: int = 30):
        super().__init__(max_retry_count=max_retry_count)
        self.pacer = pacer
        self.team_id = team_id

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        return response is not None and response.status_code == 429

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None, error: Exception | None = None) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        method = _method_of(request.url)
        self.pacer.refused(self.team_id(), method, _retry_after(response))
        self.pacer.slot(self.team_id(), method)
        state.next_attempt_requested = True
        state.increment_current_attempt()


class PacedWebClient(WebClient):
    """A WebClient whose every call waits for a slot of its (workspace, method) and reports back.

    The workspace is the token's, asked once with auth.test (unpaced) when first needed."""

    def __init__(self, *args, pacer: Pacer, **kwargs):
        self._pacer = pacer
        self._team: str | None = None
        self._team_lock = threading.Lock()
        super().__init__(*args, **kwargs)
        self.retry_handlers = [PacedRateLimitRetryHandler(pacer, self.team_id)] + [
            h for h in self.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)]

    @property
    def pacer(self) -> Pacer:
        return self._pacer

    def team_id(self) -> str:
        """The workspace this client's token belongs to ("" if Slack could not say yet)."""
        with self._team_lock:
            if self._team is None:
                try:
                    self._team = str(super().api_call("auth.test")["team_id"])
                except Exception:  # noqa: BLE001 - pace under "" and ask again next time
                    logger.warning("auth.test failed; pacing without a workspace id for now", exc_info=True)
                    return ""
            return self._team

    def api_call(self, api_method: str, **kwargs):  # type: ignore[override]
        team = self.team_id()
        self._pacer.slot(team, api_method)
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                # The retry handler gave up (its last try was refused as well): that try was let
                # go in a slot and answered, and Slack's pause holds for every sender here.
                self._pacer.refused(team, api_method, _retry_after_of(exc.response.headers))
            else:
                self._pacer.accepted(team, api_method)
            raise
        except BaseException:
            self._pacer.released(team, api_method)  # a timeout, a dropped connection
            raise
        self._pacer.accepted(team, api_method)
        return response


class WorkspaceBackoff:
    """The due runner's view of the pacer (its `backoff`): pauses for one workspace's posts.

    Slots are taken by the PacedWebClient itself, so `wait()` only waits out a pause in force."""

    def __init__(self, client: PacedWebClient, method: str = "chat.postMessage"):
        self._client = client
        self._method = method

    @property
    def pacer(self) -> Pacer:
        return self._client.pacer

    @property
    def rate_limited(self) -> int:
        return self._client.pacer.rate_limited

    def wait(self) -> None:
        self._client.pacer.wait_for_pause(self._client.team_id(), self._method)

    def pause_for(self, seconds: float) -> None:
        self._client.pacer.refused(self._client.team_id(), self._method, seconds)


def _method_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


def _retry_after_of(headers) -> float:
    """Retry-After from a SlackResponse's headers (each a string, or a list of them)."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, (list, tuple)) and value else value
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                break
    return 1.0


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(float(values[0]), 0.0)
            except ValueError:
                break
    return 1.0
