"""Small writes from many threads committed together: one transaction, one commit, for all of them.

A manager reading a report's log or prep digest makes one small write before the page is shown
(its read record, bot.growthlog.reads). Each in its own transaction, sixteen managers at once
queue for SQLite's one writer and for a durable commit each (an fsync of the WAL), and the last
of them waits for all the others. Here the first caller writes whatever has queued up by then
in one transaction; the callers that arrive meanwhile wait, and the next of them writes all of
theirs in the next transaction. Every caller returns only once its own write is committed, so
"committed before shown" holds exactly as with a transaction of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")


class _Write(Generic[T]):
    __slots__ = ("write", "done", "result", "error")

    def __init__(self, write: Callable[[Session], T]):
        self.write = write
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None


class GroupCommit:
    """Runs `write(session)` callables in shared transactions opened by `begin()`."""

    def __init__(self, begin: Callable[[], AbstractContextManager[Session]]):
        self._begin = begin
        self._turn = threading.Condition()
        self._queue: list[_Write[Any]] = []
        self._writing = False
        self._local = threading.local()   # this thread is running a batch's writes

    def run(self, write: Callable[[Session], T]) -> T:
        """`write(session)`'s result once it is committed; its exception if it (alone) failed.

        `write` shares its transaction with other callers' writes: it must only write what is
        its own and must not commit. A write that fails is retried alone, so it never costs
        another caller's write; a transaction that fails with no write to blame (SQLite's lock
        kept by another process past the busy timeout, a lost connection) fails every caller
        in it at once, instead of making each wait that long again alone."""
        if getattr(self._local, "leading", False):
            # Called from inside a write this thread is running for the batch: it would wait for
            # the batch it is part of, for ever.
            raise RuntimeError("run() inside a write of the same GroupCommit would wait on itself")
        mine: _Write[T] = _Write(write)
        with self._turn:
            self._queue.append(mine)
            while not mine.done:
                if self._writing:
                    self._turn.wait()
                    continue
                batch, self._queue = self._queue, []
                self._writing = True
                self._turn.release()
                try:
                    self._local.leading = True
                    outcomes = self._commit(batch)
                except BaseException as error:   # the leader's thread is going down: fail every caller
                    outcomes = [(None, error)] * len(batch)
                finally:
                    self._local.leading = False
                    self._turn.acquire()
                    self._writing = False
                    self._turn.notify_all()
                # Every caller of the batch is marked done, whatever happened: one left undone
                # would find its write in no queue and lead empty batches for ever.
                for item, (result, error) in zip(batch, outcomes):
                    item.result, item.error, item.done = result, error, True
        if mine.error is not None:
            raise mine.error
        return mine.result  # type: ignore[return-value]

    def _commit(self, batch: list[_Write[Any]]) -> list[tuple[Any, BaseException | None]]:
        outcomes: list[tuple[Any, BaseException | None]] = [(None, None)] * len(batch)
        together, alone = list(range(len(batch))), []
        while together:
            running: int | None = None
            try:
                with self._begin() as session:
                    results = []
                    for running in together:
                        results.append(batch[running].write(session))
                    running = None               # what fails from here on is the COMMIT
                for index, result in zip(together, results):
                    outcomes[index] = (result, None)
                together = []
            except Exception as error:
                if running is None or len(together) == 1:
                    for index in together:
                        outcomes[index] = (None, error)
                    together = []
                else:
                    # That write failed and the transaction was rolled back: it again alone (it
                    # may have failed only beside another), the others together once more.
                    together.remove(running)
                    alone.append(running)
        for index in alone:
            try:
                with self._begin() as session:
                    outcomes[index] = (batch[index].write(session), None)
            except Exception as error:
                outcomes[index] = (None, error)
        return outcomes
