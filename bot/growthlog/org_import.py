"""`growth-bot org import FILE`: an admin sets who manages whom from a CSV of Slack user ids.

All or nothing: any invalid row (with its line number) and nothing is imported. Admins set
relationships; they do not gain read access to anyone's log. Everyone whose manager changes is
told in a DM, and so is the manager, so nobody's log becomes readable without them knowing.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.growthlog.relationships import assign_manager
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
COLUMNS = (("engineer", "manager"), ("engineer_id", "manager_id"))
HEADER_HELP = "the first line must be the header `engineer,manager` (or `engineer_id,manager_id`)"


@dataclass(frozen=True)
class Relationship:
    line: int
    engineer: str
    manager: str


@dataclass(frozen=True)
class Parsed:
    rows: tuple[Relationship, ...]
    errors: tuple[str, ...]


def parse_relationships(text: str) -> Parsed:
    """Read the CSV; every problem is reported as `line N: …` (N as a text editor counts lines)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except StopIteration:
        return Parsed((), (f"line 1: the file is empty; {HEADER_HELP}.",))
    except csv.Error as exc:
        return Parsed((), (f"line 1: {exc}",))
    columns = next(((header.index(e), header.index(m)) for e, m in COLUMNS if e in header and m in header), None)
    if columns is None:
        return Parsed((), (f"line 1: {HEADER_HELP}; found `{','.join(header)}`.",))
    rows: list[Relationship] = []
    errors: list[str] = []
    first_seen: dict[str, int] = {}
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(f"line {line}: {exc}")
            break
        if not any(cell.strip() for cell in cells):
            continue
        engineer, manager = (cells[i].strip() if i < len(cells) else "" for i in columns)
        problem = _row_problem(engineer, manager)
        if problem is None and engineer in first_seen:
            problem = f"{engineer} is already on line {first_seen[engineer]}; give each engineer one manager"
        if problem:
            errors.append(f"line {line}: {problem}")
            continue
        first_seen[engineer] = line
        rows.append(Relationship(line, engineer, manager))
    if not rows and not errors:
        errors.append("the file has a header but no rows: nothing to import")
    return Parsed(tuple(rows), tuple(errors))


def _row_problem(engineer: str, manager: str) -> str | None:
    for role, value in (("engineer", engineer), ("manager", manager)):
        if not value:
            return f"the {role} is missing"
        if not USER_ID.match(value):
            return f"{role} `{value}` is not a Slack user id (like U012AB3CD; emails and names are not accepted)"
    if engineer == manager:
        return f"{engineer} cannot be their own manager"
    return None


def check_users(rows: Iterable[Relationship], problem_with: Callable[[str], str | None]) -> list[str]:
    """Ask about each distinct user id once; `problem_with(id)` says what is wrong with it, or None."""
    errors: list[str] = []
    verdicts: dict[str, str | None] = {}
    for row in rows:
        for user_id in (row.engineer, row.manager):
            if user_id not in verdicts:
                verdicts[user_id] = problem_with(user_id)
            if verdicts[user_id]:
                errors.append(f"line {row.line}: {user_id} {verdicts[user_id]}")
    return errors


def slack_user_problem(client: WebClient) -> Callable[[str], str | None]:
    """`problem_with` for `check_users`, asking Slack's users.info."""
    def problem_with(user_id: str) -> str | None:
        try:
            user = client.users_info(user=user_id).get("user") or {}
        except SlackApiError as exc:
            error = exc.response.get("error")
            return "is not a user in this workspace" if error == "user_not_found" else f"could not be checked ({error})"
        if user.get("deleted"):
            return "is a deactivated account"
        if user.get("is_bot"):
            return "is a bot"
        return None
    return problem_with


@dataclass
class Applied:
    changed: list[Relationship] = field(default_factory=list)
    unchanged: list[Relationship] = field(default_factory=list)


def apply_relationships(session: Session, team_id: str, rows: Iterable[Relationship]) -> Applied:
    """Set each engineer's manager (creating engineers as needed), in the caller's transaction."""
    applied = Applied()
    for row in rows:
        # The same rule as `/growth manager`: the previous manager's 1:1 row goes with them.
        _, changed = assign_manager(session, team_id, row.engineer, row.manager)
        (applied.changed if changed else applied.unchanged).append(row)
    return applied


def engineer_message(manager: str) -> str:
    return (f"An admin set <@{manager}> as your manager in Growth. <@{manager}> can now read your growth log "
            "before your 1:1s, never your private answers. If that isn't right, change it with "
            "`/growth manager @someone`.")


def manager_message(reports: list[str]) -> str:
    names = ", ".join(f"<@{r}>" for r in reports)
    return (f"An admin set you as the manager of {names} in Growth. Read a report's growth log before your "
            "1:1 with `/growth log @name` (answers they mark private stay theirs). Each of them has been told "
            "and can change it with `/growth manager`.")


@dataclass
class ImportReport:
    imported: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    dms_sent: int = 0

    def summary(self) -> str:
        text = (f"org import: {self.imported} imported, {self.unchanged} unchanged, "
                f"{len(self.errors)} error{'s' if len(self.errors) != 1 else ''}")
        if self.imported == 0 and self.unchanged == 0 and self.errors:
            return text + " — nothing was imported"
        return text + f" ({self.dms_sent} DM{'s' if self.dms_sent != 1 else ''} sent)"


def import_relationships(uow: UnitOfWork, client: WebClient, team_id: str, text: str) -> ImportReport:
    """Validate everything first (rows, then the users with Slack), then import in one transaction,
    then tell everyone concerned. A failed DM is reported but does not undo the import."""
    parsed = parse_relationships(text)
    if parsed.errors:
        return ImportReport(errors=list(parsed.errors))
    problems = check_users(parsed.rows, slack_user_problem(client))
    if problems:
        return ImportReport(errors=problems)
    with uow.writing() as session:
        applied = apply_relationships(session, team_id, parsed.rows)
    report = ImportReport(imported=len(applied.changed), unchanged=len(applied.unchanged))
    by_manager: dict[str, list[str]] = {}
    for row in applied.changed:
        by_manager.setdefault(row.manager, []).append(row.engineer)
        _dm(client, row.engineer, engineer_message(row.manager), report)
    for manager, reports in by_manager.items():
        _dm(client, manager, manager_message(reports), report)
    return report


def _dm(client: WebClient, user_id: str, text: str, report: ImportReport) -> None:
    try:
        client.chat_postMessage(channel=user_id, text=text)
    except SlackApiError as exc:
        logger.warning("DM to %s failed: %s", user_id, exc.response.get("error"))
        report.errors.append(f"could not DM {user_id} ({exc.response.get('error')}); the relationship is set")
        return
    report.dms_sent += 1
