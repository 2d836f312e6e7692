"""The access rule's two forms (bot.growthlog.access) agree: Python on an engineer already read,
SQL inside the statement that reads, for every reader and owner, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.growthlog.access import Reader, can_prep, can_prep_where, can_read, can_read_where
from storage.models import Engineer
from tests.growthlog import log_seed as seed

# (team, user, manager): U1 managed by U2; U2 by U3; U4 by nobody; U1 elsewhere managed by U3.
PEOPLE = [("T1", "U1", "U2"), ("T1", "U2", "U3"), ("T1", "U4", None), ("T2", "U1", "U3"), ("T1", "U3", None)]
READERS = [Reader(team, user) for team in ("T1", "T2") for user in ("U1", "U2", "U3", "U4", "U9")]


@pytest.mark.parametrize("python_form, sql_form", [(can_read, can_read_where), (can_prep, can_prep_where)],
                         ids=["read", "prep"])
def test_the_sql_form_selects_exactly_whom_the_python_form_allows(session_factory, python_form, sql_form):
    with session_factory.begin() as session:
        for team, user, manager in PEOPLE:
            seed.engineer(session, user, manager=manager, team_id=team)
    engineers = Engineer.__table__
    with session_factory() as session:
        rows = session.scalars(select(Engineer)).all()
        allowed_somewhere = 0
        for reader in READERS:
            expected = {(row.team_id, row.user_id) for row in rows if python_form(reader, row)}
            found = set(session.execute(select(engineers.c.team_id, engineers.c.user_id)
                                        .where(sql_form(reader, engineers.c))))
            assert found == expected, reader
            allowed_somewhere += bool(expected)
    assert allowed_somewhere >= 3           # the matrix holds allowed readers, not only refusals
    assert not python_form(Reader("T1", "U1"), None)      # no log: refused, like a stranger's
