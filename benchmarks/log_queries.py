"""How fast `/growth log` and `/growth prep` read a big database, next to the raw SQL for the same rows.

What counts for a person is end to end (benchmarks/read_e2e.py: the answer as it reaches Slack,
against /ladder's, under 16 concurrent clients, built on this module's database); this one
takes the query path apart, to say where the time goes. Its ratios are no longer a target.

    .venv/bin/python benchmarks/log_queries.py [--engineers 10000] [--weeks 104]
        [--database sqlite|postgresql|both] [--samples 2000] [--warmup 30] [--profile] [--no-explain]

Builds a database of N engineers (in teams of 8: one manager, seven reports) with `--weeks` weekly
check-ins each and about three answers a week (10,000 × 104 ≈ 3.1 M answers), some private, some
edited, some weeks skipped, plus a few self-assessments and 1:1 pairs. The schema is the real one
(`storage.db.upgrade_database`, so the real indexes); the rows go in with bulk inserts (SQLite
`executemany` in one transaction, PostgreSQL `COPY` with foreign-key triggers off, then
`VACUUM ANALYZE`). SQLite lives in a temporary file, PostgreSQL in a throwaway server
(tests/pg_server.py); both are deleted at the end. A full-size run takes several minutes.

Then, for random reports, interleaved in a random order on every sample, it times:

  log·own  `read_log_view` (what the `/growth log` listener calls): the reader's own log, page 1,
           private answers included, in a read-only session (`Services.uow.reading()`)
           as the listener does: SQLAlchemy Core, one statement, the access rule inside it.
  log·mgr  the same, read by the report's manager: no private answers.
  prep     `read_digest` (what `/growth prep` calls, minus posting and marking the pair prepped):
           the manager's digest of a report: the report, the manager's time zone, the last prep
           and the self-assessments (one statement, access checked), the shared answers since the
           last prep or the last four weeks, the period's check-ins (quiet weeks), stage guidance
           from the catalog, and the profile summary.

against two baselines, both hand-written SQL for the same rows, no SQLAlchemy at all, run on the
driver's cursor:
  - log: one query, the page's check-ins joined to their (visible) answers, given the engineer
    id (the service also reads the next check-in, to know whether there is an older page, and
    finds the engineer by Slack id and checks access inside its one statement);
  - prep: every row a digest is built from: the report with the manager's time zone and the
    pair's last prep (whose answers, since when), then the shared answers since then joined to
    their check-ins, the period's check-ins, and the two latest self-assessments (4 statements).

  raw       (the issue's baseline) on one DBAPI connection held for the whole run, in autocommit:
            the queries alone, nothing per request.
  raw pool  the same SQL on a connection checked out of the engine's pool per request
            (pre-ping on PostgreSQL, autocommit on both), the floor any request pays.

and, to say where the time goes:

  read_log·mgr      `read_log` alone, on a connection already checked out.
  prep data         `read_shared_since` + `weeks_sent` (the digest's two reads after the first),
                    on a connection already taken; its ratios are against the whole raw prep,
                    for scale, not like for like.
  blocks·log/prep   the pure Block Kit builders on the result (`build_log_messages` /
                    `build_prep_messages`) serialised with `to_dict()`, as the listener does
                    before `respond`: CPU only, on the same sample, reported on its own.
  session+SELECT 1  a read-only session's floor (every read path opens one).

The process freezes its long-lived objects (`gc.freeze()`) once set up, as bot.runtime does.
Warm-up samples (untimed) first check that each path returns the same rows as its baselines. It
prints p50/p99 (ms) per path with the ratios to both baselines (for reference: within 2x of the
raw query was the former target), then the statements each service path runs (to catch
N+1s) with their query plans. `--engineers 1000` gives a quick run (about a minute).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import pstats
import queue
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: `tests` is not installed

from sqlalchemy import Engine, event, text

from bot.blocks.growthlog import build_log_messages, build_prep_messages
from bot.catalog import BUNDLED_CONTENT_DIR, load_catalog
from bot.growthlog.access import Reader
from bot.growthlog.assessment import FRAMEWORK_ID, assessment_choices
from storage.repositories.growth_log import PAGE_SIZE, read_log, read_shared_since, weeks_sent
from bot.growthlog.log_view import LogQuery, read_log_view
from bot.growthlog.prep import (
    DIGEST_CHECKINS,
    FIRST_PREP_WINDOW,
    COUNTED,
    RECENT_CHECKINS,
    read_digest,
)
from storage.db import make_engine, make_session_factory, upgrade_database
from storage.uow import UnitOfWork
from tests.pg_server import PostgresServer

TEAM = "T0BENCH"
TEAM_SIZE = 8                      # engineer 0 of each team manages the other seven
NOW = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)   # a Wednesday; the last check-in is last week's
QUESTIONS_PER_CHECKIN = 3
SKIPPED_WEEK = 0.05                # no answer at all that week
ANSWERED = 0.99                    # each question, in a week that was not skipped
FREE_REPLY = 0.20                  # an extra reply typed in the DM thread
PRIVATE = 0.15
EDITED = 0.05
WITH_ASSESSMENTS = 0.30
WITH_PAIR = 0.50                   # reports whose manager has prepped before (else: first prep, 4 weeks)
CHUNK = 500                        # engineers per bulk-insert batch
TZS = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Europe/London")

QUESTION_POOL = [f"Reflection question {n}: what did you learn about {topic} this week?"
                 for n, topic in enumerate(
                     ["code review", "planning", "mentoring", "incidents", "design", "testing", "your team",
                      "a stakeholder", "estimates", "a hard conversation", "on-call", "documentation",
                      "hiring", "tech debt", "product", "a failure", "your goals", "feedback", "scope",
                      "performance", "security", "data", "the roadmap", "yourself"] * 2)]
_SENTENCE = ("shipped the billing export and paired with Ana on the flaky tests; learned that small PRs get "
             "reviewed faster, and that \"done\" means deployed — next week I want to write the design doc "
             "for the retry queue before coding it, and ask for feedback earlier")
_WORDS = _SENTENCE.split()


def _answer_texts(rng: random.Random, count: int = 400) -> list[str]:
    texts = []
    for _ in range(count):
        n = rng.choice((8, 15, 25, 40, 60, 90, 140))
        words = [rng.choice(_WORDS) for _ in range(n)]
        if n > 50:
            words.insert(n // 2, "\n\n")        # long answers have paragraphs
        texts.append(" ".join(words))
    return texts


def user_id(index: int) -> str:
    return f"U{index:08d}"


def manager_index(index: int) -> int | None:
    head = index - index % TEAM_SIZE
    return None if head == index else head


# -- seeding ------------------------------------------------------------------------------------

class Writer:
    """Bulk inserts in one dialect's native format."""

    true: object
    false: object

    def ts(self, value: datetime) -> object: ...
    def day(self, value: date) -> object: ...
    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None: ...
    def escape(self, value: str) -> str: return value
    def finish(self) -> None: ...


class SqliteWriter(Writer):
    # What SQLAlchemy's SQLite types store: naive UTC text with microseconds, ISO dates, 0/1.
    true, false = 1, 0

    def __init__(self, path: Path):
        self.connection = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -1000000", "foreign_keys = OFF"):
            self.connection.execute(f"PRAGMA {pragma}")
        self.connection.execute("BEGIN")

    def ts(self, value: datetime) -> str:
        return value.isoformat(" ", "microseconds")

    def day(self, value: date) -> str:
        return value.isoformat()

    def write(self, table, columns, rows) -> None:
        marks = ", ".join("?" for _ in columns)
        self.connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def finish(self) -> None:
        self.connection.execute("COMMIT")
        self.connection.close()      # make_engine turns WAL back on at the next connection


class PostgresWriter(Writer):
    """COPY in its text format (tab-separated, \\N for NULL, backslash escapes), from a thread of
    its own: the server loads one batch while this process generates the next."""

    true, false = "t", "f"

    def __init__(self, engine: Engine):
        self.raw = engine.raw_connection()
        self.connection = self.raw.driver_connection
        self.tables: set[str] = set()
        # No foreign-key triggers while loading (the rows are consistent by construction): they
        # look up the parent row for every child row and were most of the load time.
        self.connection.execute("SET session_replication_role = replica")
        self.batches: queue.Queue = queue.Queue(maxsize=2)
        self.failure: BaseException | None = None
        self.loader = threading.Thread(target=self._load, name="copy", daemon=True)
        self.loader.start()

    def ts(self, value: datetime) -> str:
        return value.isoformat(" ", "microseconds") + "+00"

    def day(self, value: date) -> str:
        return value.isoformat()

    def escape(self, value: str) -> str:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")

    def write(self, table, columns, rows) -> None:
        if self.failure is not None:
            raise RuntimeError("COPY failed") from self.failure
        self.tables.add(table)
        data = "".join("\t".join(r"\N" if v is None else str(v) for v in row) + "\n" for row in rows)
        self.batches.put((f"COPY {table} ({', '.join(columns)}) FROM STDIN", data))

    def _load(self) -> None:
        while (batch := self.batches.get()) is not None:
            if self.failure is not None:
                continue                      # drain, so the producer never blocks
            statement, data = batch
            try:
                with self.connection.cursor() as cursor, cursor.copy(statement) as copy:
                    copy.write(data)
            except Exception as error:  # noqa: BLE001 -- re-raised in the main thread
                self.failure = error

    def finish(self) -> None:
        self.batches.put(None)
        self.loader.join()
        if self.failure is not None:
            raise RuntimeError("COPY failed") from self.failure
        with self.connection.cursor() as cursor:
            for table in sorted(self.tables):     # ids were given explicitly: move the sequences on
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT coalesce(max(id), 1) FROM {table}))")
            cursor.execute("RESET session_replication_role")
        self.raw.commit()
        self.raw.close()


ENGINEER_COLUMNS = ("id", "team_id", "user_id", "framework_id", "level_id", "tz", "tz_checked_at",
                    "reminders_enabled", "rotation_offset", "manager_user_id", "created_at", "updated_at")
CHECKIN_COLUMNS = ("id", "engineer_id", "week_start", "due_at", "status", "questions", "attempts", "channel_id",
                   "message_ts", "sent_at", "answered_at")
ANSWER_COLUMNS = ("id", "checkin_id", "engineer_id", "question_id", "question_text", "text", "source",
                  "is_private", "slack_ts", "created_at", "updated_at")
ASSESSMENT_COLUMNS = ("id", "engineer_id", "framework_id", "picks", "created_at")
PAIR_COLUMNS = ("id", "team_id", "manager_user_id", "report_user_id", "last_prep_at")


@dataclass
class Dataset:
    engineers: int
    weeks: int
    checkins: int = 0
    answers: int = 0
    last_prep: dict[int, datetime] | None = None   # report index -> the pair's last_prep_at


def seed(writer: Writer, engineers: int, weeks: int, catalog, encrypted: bool = False) -> Dataset:
    """Deterministic rows (same seed, same data on both databases), written `CHUNK` engineers at a time.

    `encrypted`: answer texts and assessment picks are stored as the bot stores them, each value
    encrypted on its own (a fresh nonce) by the column's own type, under the installed keyring."""
    rng = random.Random(20261104)
    plain_texts = _answer_texts(rng)
    texts = [writer.escape(t) for t in plain_texts]
    seal_text, seal_picks = _sealers(encrypted)
    questions = [writer.escape(q) for q in QUESTION_POOL]
    thread_question = "Reply in the check-in thread"
    levels = [(lvl.framework_id, lvl.id) for lvl in catalog.all_levels()]
    choices = assessment_choices(catalog)
    naive_now = NOW.replace(tzinfo=None)
    this_monday = (naive_now - timedelta(days=naive_now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    first_monday = this_monday - timedelta(weeks=weeks)
    week_days = [(first_monday + timedelta(weeks=w)) for w in range(weeks)]
    questions_json: dict[tuple[int, ...], str] = {}
    ts, day, t, f = writer.ts, writer.day, writer.true, writer.false
    checkin_id = answer_id = assessment_id = pair_id = 0
    data = Dataset(engineers, weeks, last_prep={})

    for start in range(0, engineers, CHUNK):
        engineer_rows, checkin_rows, answer_rows, assessment_rows, pair_rows = [], [], [], [], []
        for index in range(start, min(start + CHUNK, engineers)):
            engineer_id = index + 1
            uid = user_id(index)
            boss = manager_index(index)
            fw, lvl = levels[rng.randrange(len(levels))]
            created = ts(first_monday - timedelta(days=rng.randrange(1, 30)))
            engineer_rows.append((engineer_id, TEAM, uid, fw, lvl, TZS[index % len(TZS)], ts(naive_now), t, 0,
                                  user_id(boss) if boss is not None else None, created, created))
            if boss is not None and rng.random() < WITH_PAIR:
                pair_id += 1
                last_prep = naive_now - timedelta(days=rng.randrange(6, 22), hours=rng.randrange(24))
                data.last_prep[index] = last_prep.replace(tzinfo=UTC)
                pair_rows.append((pair_id, TEAM, user_id(boss), uid, ts(last_prep)))
            if rng.random() < WITH_ASSESSMENTS:
                for n in range(rng.randrange(1, 4)):
                    assessment_id += 1
                    picks = {c.capability.id: rng.choice(c.choices).role for c in choices}
                    assessment_rows.append((assessment_id, engineer_id, FRAMEWORK_ID, writer.escape(seal_picks(picks)),
                                            ts(naive_now - timedelta(days=30 * (n + 1) + rng.randrange(20)))))
            offset = timedelta(hours=index % 9)
            for w, monday in enumerate(week_days):
                checkin_id += 1
                picked = tuple((index * 7 + w * QUESTIONS_PER_CHECKIN + k) % len(questions)
                               for k in range(QUESTIONS_PER_CHECKIN))
                if picked not in questions_json:
                    questions_json[picked] = writer.escape(json.dumps(
                        [{"id": f"q{i}", "text": QUESTION_POOL[i], "kind": "reflection"} for i in picked]))
                due = monday + timedelta(days=4, hours=12) + offset
                sent = due + timedelta(seconds=2)
                first_answer = None
                if rng.random() >= SKIPPED_WEEK:
                    at = sent + timedelta(seconds=rng.randrange(600, 172_800))
                    first_answer = at
                    asked = [(f"q{i}", questions[i], None) for i in picked if rng.random() < ANSWERED]
                    if rng.random() < FREE_REPLY:
                        asked.append((None, thread_question, "thread"))
                    for question_id, question_text, source in asked:
                        answer_id += 1
                        updated = at + timedelta(hours=1) if rng.random() < EDITED else at
                        slack_ts = f"{int(at.timestamp())}.{answer_id:06d}" if source else None
                        pick = rng.randrange(len(texts))
                        answer_rows.append((answer_id, checkin_id, engineer_id, question_id, question_text,
                                            writer.escape(seal_text(plain_texts[pick])) if seal_text else texts[pick],
                                            source or "modal",
                                            t if rng.random() < PRIVATE else f, slack_ts, ts(at), ts(updated)))
                        at += timedelta(seconds=rng.randrange(20, 900))
                checkin_rows.append((checkin_id, engineer_id, day(monday.date()), ts(due),
                                     "answered" if first_answer else "sent", questions_json[picked], 1,
                                     f"D{uid}", f"{int(sent.timestamp())}.000100", ts(sent),
                                     ts(first_answer) if first_answer else None))
        writer.write("engineers", ENGINEER_COLUMNS, engineer_rows)
        writer.write("checkins", CHECKIN_COLUMNS, checkin_rows)
        writer.write("answers", ANSWER_COLUMNS, answer_rows)
        if assessment_rows:
            writer.write("assessments", ASSESSMENT_COLUMNS, assessment_rows)
        if pair_rows:
            writer.write("one_on_ones", PAIR_COLUMNS, pair_rows)
    writer.finish()
    data.checkins, data.answers = checkin_id, answer_id
    return data


def _sealers(encrypted: bool):
    """(answer text → stored text, picks → stored JSON text), through the models' column types."""
    if not encrypted:
        return None, json.dumps
    from storage.models import Answer, Assessment

    text_type, picks_type = Answer.__table__.c.text.type, Assessment.__table__.c.picks.type
    # The JSON column's own serialisation of the ciphertext (a JSON string) is json.dumps's.
    return (lambda value: text_type.process_bind_param(value, None),
            lambda picks: json.dumps(picks_type.process_bind_param(picks, None)))


# -- the database under test --------------------------------------------------------------------

@contextlib.contextmanager
def database(kind: str, engineers: int, weeks: int, catalog,
             encrypted: bool = False) -> Iterator[tuple[Engine, Dataset]]:
    """A migrated, seeded database of `kind` (`encrypted`: see `seed`); everything it made is
    deleted on exit."""
    scratch = Path(tempfile.mkdtemp(prefix="growth-bench-"))
    server = None
    try:
        if kind == "sqlite":
            path = scratch / "growth.db"
            url = f"sqlite:///{path}"
            upgrade_database(url)
            started = time.perf_counter()
            data = seed(SqliteWriter(path), engineers, weeks, catalog, encrypted)
            engine = make_engine(url)
        else:
            server = PostgresServer().start()
            server.create_database("growth_bench")
            url = server.url("growth_bench")
            upgrade_database(url)
            engine = make_engine(url)
            started = time.perf_counter()
            data = seed(PostgresWriter(engine), engineers, weeks, catalog, encrypted)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM (ANALYZE)"))   # what autovacuum would have done by now
        seconds = time.perf_counter() - started
        size = _database_size(engine, kind, scratch)
        what = "answers (encrypted, as the bot stores them)" if encrypted else "answers"
        print(f"[{kind}] seeded {data.engineers:,} engineers, {data.checkins:,} check-ins, {data.answers:,} {what} "
              f"in {seconds:.1f}s ({data.answers / seconds:,.0f} answers/s){size}", flush=True)
        try:
            yield engine, data
        finally:
            engine.dispose()
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def _database_size(engine: Engine, kind: str, scratch: Path) -> str:
    if kind == "sqlite":
        return f"; file {sum(p.stat().st_size for p in scratch.iterdir()) / 1e6:,.0f} MB"
    with engine.connect() as connection:
        size = connection.scalar(text("SELECT pg_database_size(current_database())"))
    return f"; database {size / 1e6:,.0f} MB"


# -- the raw baseline ---------------------------------------------------------------------------

SELECT_1 = text("SELECT 1")
RAW_LOG = """
SELECT c.id, c.week_start, c.sent_at, c.status, c.questions,
       a.id, a.question_id, a.question_text, a.text, a.source, a.is_private, a.created_at, a.updated_at
FROM checkins c JOIN answers a ON a.checkin_id = c.id
WHERE c.id IN (SELECT c2.id FROM checkins c2
               WHERE c2.engineer_id = ?
                 AND EXISTS (SELECT 1 FROM answers a2 WHERE a2.checkin_id = c2.id {private2})
               ORDER BY c2.week_start DESC LIMIT {limit})
  {private}
ORDER BY c.week_start DESC, a.created_at, a.id
"""
RAW_PREP_REPORT = """
SELECT e.id, e.framework_id, e.level_id, e.tz, m.tz, p.last_prep_at
FROM engineers e
LEFT JOIN engineers m ON m.team_id = e.team_id AND m.user_id = ?
LEFT JOIN one_on_ones p ON p.team_id = e.team_id AND p.manager_user_id = ? AND p.report_user_id = e.user_id
WHERE e.team_id = ? AND e.user_id = ?
"""
RAW_PREP_ANSWERS = """
SELECT c.id, c.week_start, c.sent_at, c.status, c.questions,
       a.id, a.question_id, a.question_text, a.text, a.source, a.is_private, a.created_at, a.updated_at
FROM answers a JOIN checkins c ON c.id = a.checkin_id
WHERE a.engineer_id = ? AND a.created_at >= ? AND a.is_private = false
ORDER BY c.week_start DESC, a.created_at, a.id
"""
RAW_PREP_CHECKINS = """
SELECT id, week_start, status, sent_at, due_at FROM checkins
WHERE engineer_id = ? AND week_start >= ?
ORDER BY week_start DESC
"""
RAW_PREP_ASSESSMENTS = f"""
SELECT framework_id, picks, created_at FROM assessments
WHERE engineer_id = ? AND framework_id = '{FRAMEWORK_ID}'
ORDER BY created_at DESC, id DESC LIMIT 2
"""


def _as_datetime(value) -> datetime:
    """A timestamp as the driver returned it (SQLite: naive UTC text) → an aware datetime."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if isinstance(value, str) else value


class Raw:
    """The baselines: hand-written SQL on DBAPI connections, no ORM, no SQLAlchemy `Connection`.

    `log`/`prep` run on one connection held for the whole run, in autocommit (the issue's "raw
    indexed SQL"); `pooled_log`/`pooled_prep` draw a connection from the engine's pool for each
    call.
    """

    def __init__(self, engine: Engine, kind: str):
        self.kind = kind
        self.engine = engine
        self.raw = engine.raw_connection()
        if kind == "postgresql":
            self.raw.driver_connection.autocommit = True     # sqlite: make_engine already runs it so
        fix = (lambda sql: sql.replace("?", "%s")) if kind == "postgresql" else (lambda sql: sql)
        self.log_sql = {
            private: fix(RAW_LOG.format(limit=PAGE_SIZE, private="" if private else "AND a.is_private = false",
                                        private2="" if private else "AND a2.is_private = false"))
            for private in (True, False)
        }
        self.prep_report_sql = fix(RAW_PREP_REPORT)
        self.prep_answers_sql, self.prep_checkins_sql = fix(RAW_PREP_ANSWERS), fix(RAW_PREP_CHECKINS)
        self.prep_assessments_sql = fix(RAW_PREP_ASSESSMENTS)

    def _params(self, *values):
        if self.kind == "postgresql":
            return values
        return tuple(v.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
                     if isinstance(v, datetime) else v.isoformat() if isinstance(v, date) else v for v in values)

    def _all(self, sql: str, *params, connection=None) -> list[tuple]:
        cursor = (connection or self.raw).cursor()
        try:
            cursor.execute(sql, self._params(*params))
            return cursor.fetchall()
        finally:
            cursor.close()

    def log(self, engineer_id: int, include_private: bool, connection=None) -> list[tuple]:
        return self._all(self.log_sql[include_private], engineer_id, connection=connection)

    def prep(self, case: Case, connection=None) -> tuple[list[tuple], ...]:
        """Every row a digest is built from: the report (whose level, whose answers) with the
        manager's time zone and the pair's last prep (since when), then the shared answers since
        then with their check-ins, the period's check-ins, and the two latest self-assessments
        (what the summary compares)."""
        report = self._all(self.prep_report_sql, case.manager, case.manager, TEAM, case.report, connection=connection)
        engineer_id, last_prep = report[0][0], report[0][5]
        period_start = last_prep if last_prep is not None else NOW - FIRST_PREP_WINDOW
        week_floor = (_as_datetime(period_start) - timedelta(days=7)).date()
        return (report,
                self._all(self.prep_answers_sql, engineer_id, period_start, connection=connection),
                self._all(self.prep_checkins_sql, engineer_id, week_floor, connection=connection),
                self._all(self.prep_assessments_sql, engineer_id, connection=connection))

    @contextlib.contextmanager
    def pooled(self) -> Iterator[object]:
        """A pooled DBAPI connection for one request."""
        connection = self.engine.raw_connection()          # checkout: pre-ping on PostgreSQL
        driver = connection.driver_connection
        try:
            if self.kind == "postgresql":
                driver.autocommit = True                    # no BEGIN, no ROLLBACK (a client-side flag)
            yield connection                                # (SQLite: autocommit, as make_engine sets it)
        finally:
            if self.kind == "postgresql":
                driver.autocommit = False
            connection.close()                              # back to the pool

    def pooled_log(self, engineer_id: int, include_private: bool) -> list[tuple]:
        with self.pooled() as connection:
            return self.log(engineer_id, include_private, connection)

    def pooled_prep(self, case: Case) -> tuple[list[tuple], ...]:
        with self.pooled() as connection:
            return self.prep(case, connection)

    def close(self) -> None:
        if self.kind == "postgresql":
            self.raw.driver_connection.autocommit = False
        self.raw.close()


# -- one sample ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Timed:
    """What a path returns when it timed only part of itself."""

    ns: int


@dataclass(frozen=True)
class Case:
    index: int            # the report
    engineer_id: int
    report: str
    manager: str
    period_start: datetime


def cases(data: Dataset, rng: random.Random) -> Iterator[Case]:
    while True:
        index = rng.randrange(data.engineers)
        boss = manager_index(index)
        if boss is None:
            continue
        period = data.last_prep.get(index) or NOW - FIRST_PREP_WINDOW
        yield Case(index, index + 1, user_id(index), user_id(boss), period)


class Paths:
    """The service paths and their baselines, callable on a case."""

    def __init__(self, engine: Engine, kind: str, catalog):
        self.uow = UnitOfWork(make_session_factory(engine))   # what the listeners use: uow.reading()
        self.catalog = catalog
        self.raw = Raw(engine, kind)

    def log_own(self, case: Case):
        return read_log_view(self.uow, Reader(TEAM, case.report), LogQuery())

    def log_mgr(self, case: Case):
        return read_log_view(self.uow, Reader(TEAM, case.manager), LogQuery(owner_user_id=case.report))

    def prep(self, case: Case):
        return read_digest(self.uow, self.catalog, Reader(TEAM, case.manager), case.report, NOW)

    # The data functions alone, on a connection already checked out: the query path without
    # the per-request costs (checkout, the access check's lookup).
    def page_mgr(self, case: Case):
        with self.uow.reading() as session:
            started = time.perf_counter_ns()
            read_log(session, case.engineer_id, include_private=False)
            return Timed(time.perf_counter_ns() - started)

    def page_prep(self, case: Case):
        with self.uow.reading() as session:
            started = time.perf_counter_ns()
            read_shared_since(session, case.engineer_id, case.period_start, DIGEST_CHECKINS)
            weeks_sent(session, case.engineer_id, case.period_start, NOW, COUNTED, RECENT_CHECKINS)
            return Timed(time.perf_counter_ns() - started)

    def session(self, case: Case):
        """The floor of any request: a read session, a pooled connection (pre-pinged on
        PostgreSQL, autocommit there; BEGIN … ROLLBACK on SQLite) and `SELECT 1`."""
        with self.uow.reading() as session:
            session.execute(SELECT_1)

    def raw_own(self, case: Case):
        return self.raw.log(case.engineer_id, True)

    def raw_mgr(self, case: Case):
        return self.raw.log(case.engineer_id, False)

    def raw_prep(self, case: Case):
        return self.raw.prep(case)

    def pool_own(self, case: Case):
        return self.raw.pooled_log(case.engineer_id, True)

    def pool_mgr(self, case: Case):
        return self.raw.pooled_log(case.engineer_id, False)

    def pool_prep(self, case: Case):
        return self.raw.pooled_prep(case)

    def check(self, case: Case) -> None:
        """The service and the baseline return the same rows (else the comparison means nothing)."""
        for view, rows, pooled in ((self.log_own(case), self.raw_own(case), self.pool_own(case)),
                                   (self.log_mgr(case), self.raw_mgr(case), self.pool_mgr(case))):
            assert view is not None, case
            assert _grouped(view.page.checkins) == _grouped_rows(rows), case
            assert pooled == rows, case
        digest = self.prep(case)
        assert digest is not None, case
        _, answers, _, assessments = self.raw_prep(case)
        assert self.pool_prep(case) == self.raw_prep(case), case
        expected = _grouped_rows(answers)
        assert _grouped(digest.checkins) == expected[:len(digest.checkins)], case
        assert len(digest.checkins) == min(len(expected), DIGEST_CHECKINS), case
        assert bool(digest.profile) == bool(assessments), case


def _grouped(checkins) -> list[tuple[int, frozenset[int]]]:
    return [(c.checkin_id, frozenset(e.answer_id for e in c.entries)) for c in checkins]


def _grouped_rows(rows) -> list[tuple[int, frozenset[int]]]:
    order: dict[int, set[int]] = {}
    for row in rows:
        order.setdefault(row[0], set()).add(row[5])
    return [(cid, frozenset(ids)) for cid, ids in order.items()]


def _serialised(messages) -> list:
    return [[block.to_dict() for block in message] for message in messages]


def measure(paths: Paths, data: Dataset, samples: int, warmup: int) -> dict[str, list[float]]:
    """Milliseconds per path; every sample runs every path once, in a random order."""
    rng = random.Random(7)
    source = cases(data, rng)
    for _ in range(warmup):
        paths.check(next(source))
    timings: dict[str, list[float]] = {}
    results: dict[str, object] = {}
    clock = time.perf_counter_ns
    named: list[tuple[str, Callable[[Case], object]]] = [
        ("log·own", paths.log_own), ("raw·own", paths.raw_own), ("pool·own", paths.pool_own),
        ("log·mgr", paths.log_mgr), ("raw·mgr", paths.raw_mgr), ("pool·mgr", paths.pool_mgr),
        ("prep", paths.prep), ("raw·prep", paths.raw_prep), ("pool·prep", paths.pool_prep),
        ("read_log·mgr", paths.page_mgr), ("prep data", paths.page_prep), ("session+SELECT 1", paths.session),
    ]
    for _ in range(samples):
        case = next(source)
        rng.shuffle(named)
        for name, call in named:
            started = clock()
            results[name] = result = call(case)
            spent = result.ns if isinstance(result, Timed) else clock() - started
            timings.setdefault(name, []).append(spent / 1e6)
        for name, build in (("blocks·log", lambda: _serialised(build_log_messages(results["log·mgr"]))),
                            ("blocks·prep", lambda: _serialised(build_prep_messages(results["prep"])))):
            started = clock()
            build()
            timings.setdefault(name, []).append((clock() - started) / 1e6)
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


TARGET = 2.0     # the issue: p50 and p99 within 2x of the raw query for the same rows
ROWS = (  # (path, raw baseline, raw-via-pool baseline); None: no baseline, the cost alone
    ("log·own", "raw·own", "pool·own"), ("log·mgr", "raw·mgr", "pool·mgr"), ("prep", "raw·prep", "pool·prep"),
    ("read_log·mgr", "raw·mgr", "pool·mgr"), ("prep data", "raw·prep", "pool·prep"),
    ("blocks·log", None, None), ("blocks·prep", None, None), ("session+SELECT 1", None, None),
)
TARGETED = ("log·own", "log·mgr", "prep")     # the request paths the target is about
HEADER = (f"{'database':<11}{'path':<17}{'p50 ms':>7}{'p99 ms':>7}  │ {'raw p50':>7}{'p99':>7}{'x p50':>6}"
          f"{'x p99':>6}  │ {'pool p50':>8}{'p99':>7}{'x p50':>6}{'x p99':>6}")


@dataclass(frozen=True)
class Verdict:
    kind: str
    path: str
    raw: tuple[float, float]       # x p50, x p99 against the raw query
    pool: tuple[float, float]      # against raw via pool

    @staticmethod
    def met(ratios: tuple[float, float]) -> bool:
        return max(ratios) <= TARGET

    def line(self) -> str:
        def said(ratios, against):
            return (f"{'met' if self.met(ratios) else 'NOT met':<7} vs {against} "
                    f"({ratios[0]:.2f}x p50, {ratios[1]:.2f}x p99)")
        return f"  {self.kind:<11}{self.path:<9}{said(self.raw, 'raw'):<46}{said(self.pool, 'raw via pool')}"


def report(kind: str, timings: dict[str, list[float]]) -> tuple[list[str], list[Verdict]]:
    def p(name):
        return percentile(timings[name], 0.5), percentile(timings[name], 0.99)

    lines, verdicts = [HEADER], []
    for name, raw, pool in ROWS:
        p50, p99 = p(name)
        line = f"{kind:<11}{name:<17}{p50:>7.3f}{p99:>7.3f}"
        if raw is not None:
            (r50, r99), (q50, q99) = p(raw), p(pool)
            x_raw, x_pool = (p50 / r50, p99 / r99), (p50 / q50, p99 / q99)
            line += (f"  │ {r50:>7.3f}{r99:>7.3f}{x_raw[0]:>6.2f}{x_raw[1]:>6.2f}"
                     f"  │ {q50:>8.3f}{q99:>7.3f}{x_pool[0]:>6.2f}{x_pool[1]:>6.2f}")
            if name in TARGETED:
                verdicts.append(Verdict(kind, name, x_raw, x_pool))
        lines.append(line)
    return lines, verdicts


def summary(verdicts: list[Verdict]) -> list[str]:
    on_raw = sum(Verdict.met(v.raw) for v in verdicts)
    on_pool = sum(Verdict.met(v.pool) for v in verdicts)
    return [f"For reference (no longer a target: benchmarks/read_e2e.py measures what a person waits for): "
            f"each request path's p50 and p99 within {TARGET:g}x of the raw query for the same rows, same run.", *(v.line() for v in verdicts),
            f"Against the raw query (the former target): {on_raw} of {len(verdicts)} met"
            f"{'' if on_raw == len(verdicts) else ' — NOT met'}. "
            f"Against raw via pool: {on_pool} of {len(verdicts)} met."]


# -- what the paths run, and how ----------------------------------------------------------------

@contextlib.contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, object]]]:
    """The statements the service paths run, as sent to the driver."""
    statements: list[tuple[str, object]] = []

    def recording(connection, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters))

    from storage.db import reading_engine

    engines = {engine, reading_engine(engine)}    # SQLite files read through a pool of their own
    for each in engines:
        event.listen(each, "before_cursor_execute", recording)
    try:
        yield statements
    finally:
        for each in engines:
            event.remove(each, "before_cursor_execute", recording)


def explain(engine: Engine, kind: str, paths: Paths, case: Case) -> None:
    raw = paths.raw
    prefix = "EXPLAIN QUERY PLAN " if kind == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
    for name, call in (("log·mgr", paths.log_mgr), ("prep", paths.prep)):
        with captured(engine) as statements:
            call(case)
        print(f"\n[{kind}] {name} runs {len(statements)} statements:")
        for statement, parameters in statements:
            _plan(raw, prefix, statement, parameters)
    print(f"\n[{kind}] raw baselines:")
    week_floor = (case.period_start - timedelta(days=7)).date()
    for sql, params in ((raw.log_sql[False], (case.engineer_id,)),
                        (raw.prep_report_sql, (case.manager, case.manager, TEAM, case.report)),
                        (raw.prep_answers_sql, (case.engineer_id, case.period_start)),
                        (raw.prep_checkins_sql, (case.engineer_id, week_floor)),
                        (raw.prep_assessments_sql, (case.engineer_id,))):
        _plan(raw, prefix, sql, raw._params(*params))


def _plan(raw: Raw, prefix: str, statement: str, parameters) -> None:
    print("  " + " ".join(statement.split()))
    if statement.lstrip().upper().startswith(("BEGIN", "ROLLBACK", "COMMIT")):
        return
    cursor = raw.raw.cursor()
    try:
        cursor.execute(prefix + statement, parameters)
        depth: dict[int, int] = {0: 0}
        for row in cursor.fetchall():
            if raw.kind == "sqlite":      # (id, parent, notused, detail): indent under the parent
                depth[row[0]] = depth.get(row[1], 0) + 1
                print("    " + "  " * depth[row[0]] + row[3])
            else:
                print("      " + row[0])
    finally:
        cursor.close()


def profile(paths: Paths, data: Dataset, calls: int = 300) -> None:
    source = cases(data, random.Random(11))
    picked = [next(source) for _ in range(calls)]
    for name, call in (("log·mgr", paths.log_mgr), ("prep", paths.prep)):
        profiler = cProfile.Profile()
        profiler.enable()
        for case in picked:
            call(case)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(f"\n-- cProfile {name} ({calls} calls) --\n{out.getvalue()}")


# -- main ---------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engineers", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--samples", type=int, default=2000,
                        help="per path; p99 of fewer samples is a handful of the slowest, mostly noise")
    parser.add_argument("--warmup", type=int, default=30, help="samples first run untimed, checking results agree")
    parser.add_argument("--profile", action="store_true", help="also cProfile the service paths")
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args(argv)
    if args.engineers < TEAM_SIZE:
        parser.error(f"--engineers must be at least {TEAM_SIZE}")

    catalog = load_catalog(BUNDLED_CONTENT_DIR)
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    table: list[str] = []
    verdicts: list[Verdict] = []
    for kind in kinds:
        with database(kind, args.engineers, args.weeks, catalog) as (engine, data):
            paths = Paths(engine, kind, catalog)
            gc.collect()
            gc.freeze()          # as bot.runtime.run_bot does once the app is built
            try:
                timings = measure(paths, data, args.samples, args.warmup)
                lines, found = report(kind, timings)
                table.extend(lines if not table else lines[1:])
                verdicts.extend(found)
                print("\n".join(lines), flush=True)
                if not args.no_explain:
                    explain(engine, kind, paths, next(cases(data, random.Random(3))))
                if args.profile:
                    profile(paths, data)
            finally:
                paths.raw.close()
    print(f"\n{args.samples} samples per path, interleaved. raw = hand-written SQL on one DBAPI connection "
          "(autocommit); pool = the same SQL through the engine's pool, checked out per request; "
          "x = path / baseline")
    print("\n".join(table))
    print("\n".join(summary(verdicts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
