"""The pacer on a fake clock: a simulated Slack token bucket, no real time, no threads racing."""

from __future__ import annotations

import math

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack_client import make_poster_client
from bot.slack_pacing import (
    Allowance, DatabaseAllowances, LocalAllowances, PacedWebClient, Pacer, burst_upper_bound, lower_bound,
)
from tests.fake_slack import FakeSlack

POST = "chat.postMessage"


class FakeClock:
    def __init__(self, start: float = 1_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


class Bucket:
    """Slack's limit as the fake enforces it: rate r, burst b, whole-second Retry-After."""

    def __init__(self, clock: FakeClock, rate: float, burst: float):
        self.clock, self.rate, self.burst = clock, rate, burst
        self.tokens, self.at = burst, clock()
        self.refused = 0

    def call(self) -> int | None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        self.refused += 1
        return max(1, math.ceil((1 - self.tokens) / self.rate))


def send_all(pacer: Pacer, bucket: Bucket, clock: FakeClock, count: int, latency: float = 0.004,
             team: str = "T1") -> None:
    """One sender posting `count` messages through the pacer, retrying each 429 as the client does."""
    for _ in range(count):
        while True:
            pacer.slot(team, POST)
            clock.sleep(latency / 2)
            retry_after = bucket.call()
            clock.sleep(latency / 2)
            if retry_after is None:
                pacer.accepted(team, POST)
                break
            pacer.refused(team, POST, retry_after)


def settled_pacer(burst: float = 2, team: str = "T1") -> tuple[Pacer, FakeClock]:
    """A pacer on a fake clock whose workspace is known: 40/s, the given burst, settled."""
    clock = FakeClock()
    shared = LocalAllowances()
    shared.exchange(team, POST, lambda s: (Allowance(rate=40, burst=burst, stage=3), None))
    return Pacer(shared, clock=clock, sleep=clock.sleep), clock


def test_nothing_is_paced_until_slack_first_says_429():
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    start = clock()
    for _ in range(100):
        pacer.slot("T1", POST)
        pacer.accepted("T1", POST)
    assert clock() == start and pacer.rate_limited == 0


def test_a_429_pauses_every_sender_of_that_workspace_and_method_for_retry_after():
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    pacer.accepted("T1", POST)
    pacer.refused("T1", POST, 3)
    start = clock()
    pacer.slot("T2", POST)            # another workspace: not paused
    pacer.slot("T1", "users.info")    # another method: not paused
    assert clock() == start
    pacer.slot("T1", POST)
    assert clock() >= start + 3


@pytest.mark.parametrize("burst", [50, 10, 2])
def test_a_first_pass_learns_the_pace_from_a_few_429s(burst):
    # Nothing known yet (a workspace's first fan-out): learning costs a few one-second pauses.
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    bucket = Bucket(clock, rate=50, burst=burst)
    start = clock()
    send_all(pacer, bucket, clock, 1000)
    ratio = (clock() - start) / (1000 / 50)
    assert ratio <= (1.05 if burst == 50 else 1.3), (ratio, bucket.refused)
    assert bucket.refused <= 6


def test_a_learned_pace_sends_without_429s_next_time():
    clock = FakeClock()
    shared = LocalAllowances()
    send_all(Pacer(shared, clock=clock, sleep=clock.sleep), Bucket(clock, 50, 2), clock, 500)
    learned = shared.get("T1", POST)
    assert 45 <= learned.rate <= 50 and learned.stage >= 2
    clock.sleep(60)
    bucket = Bucket(clock, 50, 2)
    start = clock()
    send_all(Pacer(shared, clock=clock, sleep=clock.sleep), bucket, clock, 500)  # a new process
    # At the learned pace from the start; an estimate still creeping up meets Slack's limit at
    # most once more, and from then on the rate is known (it creeps no more).
    assert bucket.refused <= 1 and (clock() - start) / 10 <= 1.15
    if bucket.refused:
        assert shared.get("T1", POST).stage == 3 and shared.get("T1", POST).rate <= 50


def test_the_lower_bound_is_what_a_token_bucket_must_have_allowed():
    # 50/s accepted for 2 s out of a burst of 2, then a refusal: the rate is at least ~49/s.
    accepted = [100 + n / 50 for n in range(100)]
    bound = lower_bound(accepted, 102.0, burst=2, last_refusal=None)
    assert 48 <= bound <= 50
    # After a refusal the bucket was empty: what it accepted since is all refill.
    assert lower_bound(accepted, 102.0, burst=None, last_refusal=100.0 - 1e-9) == pytest.approx(49.5, abs=0.6)
    assert lower_bound([101.9], 102.0, burst=2, last_refusal=None) is None


def test_the_first_429_paces_at_the_burst_it_saw_and_later_ones_at_the_bound():
    state = Allowance().refused(10.0, 1, None, first_burst=8)
    assert (state.rate, state.burst, state.stage, state.paused_until, state.next_slot) == (8, 8, 0, 11.0, 11.0)
    again = state.refused(10.5, 1, 99.0, first_burst=8)  # inside the pause: the same one
    assert again == state
    later = state.refused(20.0, 1, 40.0, first_burst=8)
    assert later.rate == pytest.approx(8)  # never faster than it was going when refused
    fast = Allowance(rate=60, burst=2, stage=1).refused(20.0, 1, 48.0, first_burst=0, spread=0.01)
    assert fast.rate == pytest.approx(48 * 0.99) and fast.stage == 2  # settled: a smaller margin


def test_two_instances_share_one_schedule_and_see_each_others_pause():
    clock = FakeClock()
    shared = LocalAllowances()
    shared.exchange("T1", POST, lambda s: (Allowance(rate=40, burst=2, stage=2), None))
    # Both send all along, as two processes do; sleeping is left out (each would sleep in its
    # own process), so what is checked is the schedule of slots the two take between them.
    first, second = (Pacer(shared, clock=clock, sleep=lambda seconds: None) for _ in range(2))
    for _ in range(100):
        for pacer in (first, second):
            pacer.slot("T1", POST)
            pacer.accepted("T1", POST)
    taken = [list(pacer._key("T1", POST).own_slots) for pacer in (first, second)]
    slots = sorted(taken[0] + taken[1])
    assert len(set(slots)) == 200 and min(len(t) for t in taken) == 100
    # One schedule at the workspace's pace: no slot given twice, no hole between the shares
    # (but at the end, where each stops with a share leased ahead and not used).
    body = slots[:-20]
    assert max(b - a for a, b in zip(body, body[1:])) <= 1.01 / 40
    assert body[-1] - body[0] == pytest.approx((len(body) - 1) / 40, rel=0.02)

    clock = FakeClock()
    first, second = (Pacer(shared, clock=clock, sleep=clock.sleep) for _ in range(2))
    for pacer in (first, second):
        pacer.slot("T1", POST)
    first.refused("T1", POST, 2)
    paused_at = clock()
    for _ in range(30):  # what it leased before the pause goes, then its next lease sees the pause
        second.slot("T1", POST)
    assert clock() >= paused_at + 2


def test_the_next_share_is_leased_before_this_one_runs_out():
    clock = FakeClock()
    shared = LocalAllowances()
    shared.exchange("T1", POST, lambda s: (Allowance(rate=40, burst=2, stage=2), None))
    pacer = Pacer(shared, clock=clock, sleep=clock.sleep)
    key = pacer._key("T1", POST)
    for _ in range(100):
        pacer.slot("T1", POST)
        pacer.accepted("T1", POST)
        assert len(key.slots) >= 1  # never down to none: the next share is already here
    assert len(key.leases) >= 8


def test_two_runners_on_one_database_share_the_pause_and_the_rate(uow):
    clock = FakeClock()
    first, second = (Pacer(DatabaseAllowances(uow), clock=clock, sleep=clock.sleep) for _ in range(2))
    for _ in range(20):
        first.slot("T1", POST)
        first.accepted("T1", POST)
    first.refused("T1", POST, 1)
    paused_at = clock()
    second.slot("T1", POST)  # a fresh process: it reads the pause from the database
    assert clock() >= paused_at + 1
    learned = DatabaseAllowances(uow).exchange("T1", POST, lambda s: (s, s))
    assert learned.rate >= 20 and learned.burst == 20 and learned.last_refusal == paused_at  # 20 before the 429
    taken = []
    for _ in range(10):
        second.slot("T1", POST)
        taken.append(clock())
    assert taken[-1] - taken[0] >= 9 / 50  # paced at the shared, learned rate (growing from 20/s)


def test_the_client_paces_every_call_and_learns_from_the_fakes_429s():
    with FakeSlack(rate_limit_per_second=20, rate_limit_burst=2) as fake:
        pacer = Pacer()
        client = PacedWebClient(base_url=fake.base_url, token="xoxb-test", retry_handlers=[], pacer=pacer)
        for n in range(30):
            assert client.chat_postMessage(channel=f"U{n}", text="x")["ok"]
        assert fake.rate_limited_count == pacer.rate_limited > 0
        assert len(fake.post_message_counts()) == 30
        assert client.team_id() == "T1"


def test_a_slack_error_other_than_429_is_not_retried():
    with FakeSlack() as fake:
        client = PacedWebClient(base_url=fake.base_url, token="xoxb-test", retry_handlers=[], pacer=Pacer())
        fake.fail_next(POST, error="internal_error", status=500)
        with pytest.raises(SlackApiError):
            client.chat_postMessage(channel="U1", text="x")
        assert len(fake.calls_to(POST)) == 1


def test_a_429_at_a_settled_pace_takes_at_most_a_step_off_it():
    # Settled at 48/s: most likely calls that reached Slack in a clump.
    settled = Allowance(rate=48, burst=2, stage=2, last_refusal=50.0)
    bunched = settled.refused(100.0, 1, 47.9, first_burst=0)
    # Slack took (nearly) the whole pace: no faster than it took, no margin, and still creeping.
    assert (bunched.rate, bunched.stage, bunched.paused_until) == (47.9, 2, 101.0)
    # A rough bound far under the pace (little history, another instance's calls guessed):
    # a step off, not down to the bound; the pace crossed, so it stops creeping.
    rough = settled.refused(100.0, 1, 44.0, first_burst=0)
    assert rough.rate == pytest.approx(48 * 0.99) and rough.stage == 3
    # A precise bound (a long window) is the rate: down to it at once.
    assert settled.refused(100.0, 1, 44.0, first_burst=0, spread=0.01).rate == 44
    # Soon after another, with nothing to go on: a step off; a lone one changes nothing.
    assert bunched.refused(103.0, 1, None, first_burst=0).rate == pytest.approx(47.9 * 0.99)
    assert settled.refused(100.0, 1, None, first_burst=0).rate == 48


def test_a_span_across_a_pause_counts_only_the_time_spent_sending():
    # 50/s for 1 s, a 1 s pause, 50/s for 1 s: across the pause that is still ~50/s, not ~33/s.
    accepted = [100 + n / 50 for n in range(50)] + [102 + n / 50 for n in range(50)]
    plain = lower_bound(accepted, 103.0, burst=2, last_refusal=None)
    paused = lower_bound(accepted, 103.0, burst=2, last_refusal=None, pauses=((101.0, 102.0, 0.0),))
    assert plain < 49 and 46 <= paused <= 50


def test_the_outbox_client_waits_out_the_workspaces_pause():
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    with FakeSlack() as fake:
        client = make_poster_client("xoxb-test", fake.base_url, pacer)
        pacer.refused("T1", POST, 2)  # the due runner's sender saw a 429 in this workspace
        paused_at = clock()
        assert client.chat_postMessage(channel="U1", text="x")["ok"]
        assert clock() >= paused_at + 2


def test_a_429_right_after_a_start_with_no_history_does_not_crash_the_settled_pace():
    settled = Allowance(rate=49, burst=2, stage=2, last_refusal=10.0)
    assert settled.refused(100.0, 1, 0.1, first_burst=0).rate == 49
    assert settled.refused(100.0, 1, None, first_burst=0).rate == 49


@pytest.mark.parametrize("burst, waits", [(2, True), (10, False)])
def test_with_a_burst_of_a_few_calls_one_fewer_is_on_its_way_at_once(burst, waits):
    pacer, clock = settled_pacer(burst=burst)
    pacer.slot("T1", POST)
    first = clock()
    pacer.slot("T1", POST)  # the first call's answer has not come
    # Burst 2: the second call waits for the first's answer (here: until it gives up waiting).
    assert (clock() - first >= 0.25) is waits
    pacer.accepted("T1", POST)
    pacer.accepted("T1", POST)
    before = clock()
    pacer.slot("T1", POST)  # answered: no waiting beyond the pace
    assert clock() - before <= 1 / 40 + 1e-9


def test_a_call_whose_connection_failed_is_no_longer_on_its_way():
    pacer, clock = settled_pacer()
    pacer.slot("T1", POST)
    pacer.released("T1", POST)
    before = clock()
    pacer.slot("T1", POST)
    assert clock() - before <= 1 / 40 + 1e-9


def test_a_pace_no_429_stopped_stays_bounded_and_so_does_the_next_lease():
    # Stage 0 grows the pace 16x a second while Slack says nothing: a pass to a workspace whose
    # limit was never met stored thousands a second, and the next process then leased millions
    # of slots at once (13 GB in minutes).
    from bot.slack_pacing import MAX_LEASE_SLOTS, MAX_RATE, _Key

    state, sent = Allowance(rate=50.0, stage=0), 0
    while sent < 200_000:
        state, times = state.lease(0.0, 1_000)
        sent += len(times)
    assert state.rate == MAX_RATE
    key = _Key()
    key.interval = 1.0 / 7_246.0                     # the rate one such pass left in the database
    assert Pacer._lease_count(key) == MAX_LEASE_SLOTS


def test_with_a_small_burst_the_next_call_waits_a_gap_after_the_last_answer_not_after_its_slot():
    # A call Slack took late is answered late: the next one, whose slot has long come, must not
    # reach Slack on its heels (with a burst of two, two such pairs close together are a 429).
    pacer, clock = settled_pacer()
    pacer.slot("T1", POST)
    clock.sleep(0.060)  # a slow answer: two more slots came and went meanwhile
    pacer.accepted("T1", POST)
    answered = clock()
    pacer.slot("T1", POST)
    key = pacer._key("T1", POST)
    assert clock() - answered >= key.interval - key.round_trip - 1e-9 > 0

    # With a burst large enough to absorb a pair, the answer does not hold the next call back.
    pacer, clock = settled_pacer(burst=10)
    pacer.slot("T1", POST)
    clock.sleep(0.060)
    pacer.accepted("T1", POST)
    answered = clock()
    pacer.slot("T1", POST)
    assert clock() - answered < 0.5 / 40


def test_with_a_small_burst_a_sender_behind_the_schedule_does_not_catch_up():
    # A run of calls a little closer than the pace is a run a little over it; a bucket of two
    # has nothing to absorb it with. Late slots are lost time instead.
    pacer, clock = settled_pacer()
    sent = []
    for n in range(40):
        sent.append(pacer.slot("T1", POST))
        clock.sleep(0.002 if n % 7 else 0.030)  # now and then a slow answer
        pacer.accepted("T1", POST)
    gaps = [b - a for a, b in zip(sent, sent[1:])]
    assert min(gaps) >= 0.999 / 40  # (the pace creeps a little)
    assert len(sent) / (sent[-1] - sent[0]) <= 40


def test_other_instances_count_for_the_slots_they_leased_in_proportion_to_this_ones_share():
    # Two instances lease from one schedule. A 429 here bounds the workspace's rate by what the
    # workspace sent: this instance's calls scaled by all slots leased over this one's, not by
    # every slot the others leased on top of this one's calls (slots leased ahead and never used
    # made the bound several times Slack's rate, and the pace ran at 1.6x the limit).
    clock = FakeClock()
    shared = LocalAllowances()
    shared.exchange("T1", POST, lambda s: (Allowance(rate=40, burst=2, stage=3), None))
    first, second = (Pacer(shared, clock=clock, sleep=lambda seconds: None) for _ in range(2))

    def both_send(times: int) -> None:
        for _ in range(times):
            for pacer in (first, second):
                pacer.slot("T1", POST)
                pacer.accepted("T1", POST)
            clock.sleep(1 / 40)

    both_send(30)
    for _ in range(10):  # the second leases on, and leaves what it leased unused
        second._lease("T1", POST, second._key("T1", POST), clock())
    both_send(30)
    key = first._key("T1", POST)
    since = key.leases[0][0]
    leased_here = sum(count for _, _, count in key.leases)
    issued = key.leases[-1][1] + key.leases[-1][2] - key.leases[0][1]  # all slots, as this one saw
    assert first._scale(key)(since) == pytest.approx(issued / leased_here)



def test_a_429_right_after_a_pause_takes_a_step_off_a_settled_pace_whatever_the_bound():
    # The bucket refilled during the pause, so a refusal a fraction of a second after it ended
    # means the senders spent a full bucket and more at once: the pace is over Slack's rate.
    # (Two instances scaling their calls by each other's leases saw bounds far over the rate and
    # kept a pace of 66/s against Slack's 50: a 429 every second for the whole pass.)
    from bot.slack_pacing import CONFIRMED, RECUR_STEP, SETTLED

    settled = Allowance(rate=66.0, burst=2, stage=SETTLED, paused_until=100.0, last_refusal=99.0)
    again = settled.refused(100.2, 1, 80.0, first_burst=0, spread=0.01, since_pause=3)
    assert again.rate == pytest.approx(66.0 * RECUR_STEP) and again.stage == CONFIRMED
    assert again.paused_until == 101.2
    # One call refused again and again (Slack's limit per channel) spent nothing else: a step
    # per retry would ratchet the workspace's pace to nothing (30 retries: 50/s -> 2.4/s).
    lone = settled.refused(100.2, 1, 80.0, first_burst=0, spread=0.01, since_pause=0)
    assert lone.rate >= 66.0 * 0.99
    # Long after the pause, a bound over the pace is a clump's: the pace stays.
    later = settled.refused(105.0, 1, 80.0, first_burst=0, spread=0.01)
    assert later.rate == 66.0


def test_one_call_refused_again_and_again_does_not_ratchet_the_workspaces_pace_down():
    from bot.slack_pacing import SETTLED

    clock = FakeClock()
    shared = LocalAllowances()
    shared.exchange("T1", POST, lambda s: (Allowance(rate=50, burst=2, stage=SETTLED), None))
    pacer = Pacer(shared, clock=clock, sleep=clock.sleep)
    for _ in range(30):   # the same message, refused right after every pause (its channel's limit)
        pacer.slot("T1", POST)
        clock.sleep(0.003)
        pacer.refused("T1", POST, 1)
    assert shared.get("T1", POST).rate >= 30   # a step per retry took it to 2.4/s


def test_the_burst_bound_from_the_first_429_holds_and_leaves_out_the_refill_meanwhile():
    # Unpaced calls every 5 ms into a bucket of 50/s and 10: Slack takes 12 (its refill meanwhile
    # is the 2 more) and refuses the 13th at 60 ms.
    sends = [index * 0.005 for index in range(12)]
    bounds = [burst_upper_bound(sends, 0.06, rate) for rate in (0.0, 25.0, 40.0, 50.0)]
    assert all(bound >= 10 for bound in bounds)  # any rate up to the true one: the burst is under it
    assert bounds == sorted(bounds, reverse=True)  # the higher the rate's bound, the tighter
    assert bounds[-1] == pytest.approx(10.0) and bounds[0] == 13.0


def test_learning_from_cold_bounds_the_burst_by_the_rate_learned_not_by_all_the_first_burst_took():
    clock = FakeClock()
    shared = LocalAllowances()
    pacer = Pacer(shared, clock=clock, sleep=clock.sleep)
    bucket = Bucket(clock, rate=50, burst=10)
    first_burst = None
    for _ in range(40):
        send_all(pacer, bucket, clock, 10)
        state = shared.get("T1", POST)
        first_burst = first_burst or state.burst
    assert first_burst is not None and first_burst > 11  # Slack's refill while unpaced counted in
    assert 10 <= state.burst < first_burst - 1  # still an upper bound, nearer the true burst
