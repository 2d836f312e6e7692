"""The content folder and the settings: loaded and checked once, with one clear line per problem.

`growth-bot content check` and start-up share the loader; a bad file must name the file, the path
inside it and what is wrong — every problem at once, never a traceback.
"""

from __future__ import annotations

import copy
import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot import cli
from bot.catalog import BUNDLED_CONTENT_DIR, ContentError, load_catalog
from bot.settings import SettingsError, load_settings
from bot.terminal import mrkdwn_to_text

REPO = Path(__file__).resolve().parents[1]
# The console script installed next to the interpreter running the tests (.venv/bin/growth-bot).
GROWTH_BOT = Path(sys.executable).parent / "growth-bot"
SETTING_NAMES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "DATABASE_URL",
                 "CONTENT_DIR", "PORT", "LOG_LEVEL", "DEFAULT_FRAMEWORK", "SCHEDULER_ENABLED")


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """The CLI reads the process environment and ./.env: give it neither, unless a test sets some."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- the bundled content -----------------------------------------------------------------------


def test_the_bundled_content_loads():
    catalog = load_catalog(BUNDLED_CONTENT_DIR)
    files = {p.stem for p in BUNDLED_CONTENT_DIR.glob("*.yaml")} - {"crosswalk"}
    assert {fw.id for fw in catalog.frameworks} == files
    assert all(fw.levels for fw in catalog.frameworks if fw.id != "execution")
    # Every crosswalk entry names a real level, and every level with questions is reachable.
    for row in catalog.crosswalk.rows:
        for framework_id, level_ids in row.levels.items():
            for level_id in level_ids:
                assert catalog.level(framework_id, level_id) is not None, (row.name, framework_id, level_id)
    assert catalog.framework(catalog.crosswalk.default_framework) is not None
    for level in catalog.all_levels():
        source, questions = catalog.reflection_questions(level)
        assert source is not None and questions, f"{level.key} has nothing to reflect with"


def test_content_check_of_the_bundled_content(capsys, clean_env):
    code, out, err = run_cli(capsys, "content", "check", str(BUNDLED_CONTENT_DIR))
    assert code == 0, err
    assert "OK" in out and str(BUNDLED_CONTENT_DIR) in out
    catalog = load_catalog(BUNDLED_CONTENT_DIR)
    assert f"{len(catalog.frameworks)} frameworks" in out
    assert f"{len(catalog.all_levels())} levels" in out
    assert "9 tracks" in out and "9 themes" in out and "8 matrix stages" in out
    assert err == ""


def test_content_check_defaults_to_the_content_dir_setting(capsys, clean_env, tmp_path):
    mine = tmp_path / "ours"
    shutil.copytree(BUNDLED_CONTENT_DIR, mine)
    clean_env.setenv("CONTENT_DIR", str(mine))
    code, out, _ = run_cli(capsys, "content", "check")
    assert code == 0 and str(mine) in out and "OK" in out


def test_content_check_through_the_installed_command():
    result = subprocess.run([str(GROWTH_BOT), "content", "check", str(BUNDLED_CONTENT_DIR)], check=False,
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


# -- a broken copy -----------------------------------------------------------------------------


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def items_became_a_string(content: Path) -> None:
    edit_yaml(content / "roadmap.yaml",
              lambda d: d["levels"][2]["sections"][0].__setitem__("items", "Own system architecture"))


def broken_yaml_syntax(content: Path) -> None:
    # engineer-track is named in every crosswalk row: its rows must not add a problem each.
    path = content / "engineer-track.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nquestions: [unclosed, {\n", encoding="utf-8")


def unknown_field(content: Path) -> None:
    edit_yaml(content / "delivery.yaml", lambda d: d["levels"][0].__setitem__("colour", "red"))


def unknown_crosswalk_level(content: Path) -> None:
    edit_yaml(content / "crosswalk.yaml", lambda d: d["rows"][2]["levels"].__setitem__("roadmap", "stage-9"))


def duplicate_id(content: Path) -> None:
    edit_yaml(content / "delivery.yaml", lambda d: d["levels"].append(dict(d["levels"][2], name="Another")))


def theme_without_id(content: Path) -> None:
    edit_yaml(content / "execution.yaml", lambda d: d["sections"][4].pop("id"))


def duplicate_theme_id(content: Path) -> None:
    edit_yaml(content / "execution.yaml", lambda d: d["sections"][5].__setitem__("id", "clarity"))


def shown_with_unknown_level(content: Path) -> None:
    edit_yaml(content / "engineering-levels.yaml",
              lambda d: d["sections"][2].__setitem__("shown_with", ["staff", "wizard"]))


def caveat_names_no_section(content: Path) -> None:
    edit_yaml(content / "roadmap.yaml", lambda d: d.__setitem__("caveats", ["Small print"]))


def numbered_is_not_a_boolean(content: Path) -> None:
    edit_yaml(content / "roadmap.yaml", lambda d: d["sections"][3].__setitem__("numbered", "yes"))


def above_roles_unknown_level(content: Path) -> None:
    edit_yaml(content / "engineering-levels.yaml", lambda d: d["matrix"].__setitem__("above_roles", ["staff", "sage"]))


def track_aliases_not_text(content: Path) -> None:
    edit_yaml(content / "engineering-levels.yaml", lambda d: d["tracks"][3].__setitem__("aliases", [7]))


# (how to break it, the line `content check` must print for it)
BREAKAGES = [
    (items_became_a_string, "content/roadmap.yaml: levels[2].sections[0].items: expected a list, got a string"),
    (broken_yaml_syntax, re.compile(r"^content/engineer-track\.yaml: line \d+, column \d+: not valid YAML \(.+\)$")),
    (unknown_field, re.compile(r"^content/delivery\.yaml: levels\[0\]\.colour: unknown field \(expected one of: .*\)$")),
    (unknown_crosswalk_level, "content/crosswalk.yaml: rows[2].levels.roadmap: roadmap has no level 'stage-9'"),
    (duplicate_id, "content/delivery.yaml: levels[5]: duplicate level id 'senior'"),
    (theme_without_id, "content/execution.yaml: sections[4].id: is required"),
    (duplicate_theme_id, "content/execution.yaml: sections[5]: duplicate theme id 'clarity'"),
    (shown_with_unknown_level,
     "content/engineering-levels.yaml: sections[2].shown_with[1]: 'wizard' is not a level of this framework"),
    (caveat_names_no_section, re.compile(r"^content/roadmap\.yaml: caveats\[0\]: names no section of this framework "
                                         r"\(sections: \[.*'Purpose'.*\]\)$")),
    (numbered_is_not_a_boolean, "content/roadmap.yaml: sections[3].numbered: expected true or false, got a string"),
    (above_roles_unknown_level,
     "content/engineering-levels.yaml: matrix.above_roles[1]: 'sage' is not a level of this framework"),
    (track_aliases_not_text, "content/engineering-levels.yaml: tracks[3].aliases[0]: expected a string, got a number"),
]


@pytest.fixture
def content_copy(tmp_path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(BUNDLED_CONTENT_DIR, content)
    return content


def problem_lines(err: str) -> list[str]:
    lines = err.splitlines()
    assert lines[0] == "growth-bot: the content is not valid:"
    return [line.strip() for line in lines[1:]]


def matches(expected, line: str) -> bool:
    return bool(expected.match(line)) if isinstance(expected, re.Pattern) else line == expected


@pytest.mark.parametrize(("breakage", "expected"), BREAKAGES, ids=lambda x: getattr(x, "__name__", ""))
def test_each_problem_is_reported_alone_with_file_and_path(capsys, clean_env, content_copy, breakage, expected):
    breakage(content_copy)
    code, out, err = run_cli(capsys, "content", "check", str(content_copy))
    assert code != 0
    assert "OK" not in out
    lines = problem_lines(err)
    assert len(lines) == 1 and matches(expected, lines[0]), lines
    assert "Traceback" not in err


def test_every_problem_at_once(capsys, clean_env, content_copy):
    for breakage, _ in BREAKAGES:
        breakage(content_copy)
    code, _, err = run_cli(capsys, "content", "check", str(content_copy))
    assert code != 0
    lines = problem_lines(err)
    for _, expected in BREAKAGES:
        assert any(matches(expected, line) for line in lines), f"{expected} missing from {lines}"
    # A framework file that does not parse is one problem, not one more per crosswalk row naming it.
    assert len(lines) == len(BREAKAGES), lines
    assert "Traceback" not in err


def test_every_problem_through_the_installed_command(content_copy):
    for breakage, _ in BREAKAGES:
        breakage(content_copy)
    result = subprocess.run([str(GROWTH_BOT), "content", "check", "content"], check=False, capture_output=True, text=True,
                            timeout=60, cwd=content_copy.parent, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = problem_lines(result.stderr)
    for _, expected in BREAKAGES:
        assert any(matches(expected, line) for line in lines), f"{expected} missing from {lines}"


def test_a_framework_file_that_fails_to_parse_still_fails_a_crosswalk_naming_a_missing_level(content_copy):
    # Skipping the rows that name an unreadable file must not hide other crosswalk problems.
    broken_yaml_syntax(content_copy)
    edit_yaml(content_copy / "crosswalk.yaml", lambda d: d["rows"][0]["levels"].__setitem__("nowhere", "x"))
    with pytest.raises(ContentError) as error:
        load_catalog(content_copy)
    assert "content/crosswalk.yaml: rows[0].levels.nowhere: unknown framework 'nowhere'" in error.value.problems


@pytest.mark.parametrize(("write", "expected"), [
    ("", "content/delivery.yaml: expected a mapping, got nothing"),
    ("- just\n- a list\n", "content/delivery.yaml: expected a mapping, got a list"),
    (b"\xff\xfe not utf-8", "content/delivery.yaml: cannot be read"),
])
def test_a_file_that_is_not_a_framework_at_all(content_copy, write, expected):
    path = content_copy / "delivery.yaml"
    path.write_bytes(write) if isinstance(write, bytes) else path.write_text(write)
    with pytest.raises(ContentError) as error:
        load_catalog(content_copy)
    assert any(line.startswith(expected) for line in error.value.problems), error.value.problems


def test_a_missing_folder(capsys, clean_env, tmp_path):
    code, _, err = run_cli(capsys, "content", "check", str(tmp_path / "nowhere"))
    assert code != 0
    assert problem_lines(err) == [f"{tmp_path / 'nowhere'}: content folder not found"]


def test_start_up_refuses_bad_content_with_the_same_lines(capsys, clean_env, content_copy, tmp_path):
    items_became_a_string(content_copy)
    clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    clean_env.setenv("SLACK_SIGNING_SECRET", "secret")
    clean_env.setenv("CONTENT_DIR", str(content_copy))
    clean_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    clean_env.setenv("SCHEDULER_ENABLED", "false")
    code, _, err = run_cli(capsys, "serve")
    assert code != 0
    assert problem_lines(err) == [BREAKAGES[0][1]]
    assert "Traceback" not in err


# -- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("environ", "names"), [
    ({"PORT": "eighty"}, ["PORT", "'eighty'", "whole number"]),
    ({"PORT": "70000"}, ["PORT", "70000", "range"]),
    ({"DATABASE_URL": "growth-bot.db"}, ["DATABASE_URL", "sqlite:///", "postgresql://"]),
    ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, ["SLACK_BOT_TOKEN", "xoxb-"]),
    ({"DEFAULT_FRAMEWORK": "narnia"}, []),  # checked against the content, not here
])
def test_load_settings_names_the_bad_setting_in_one_line(environ, names):
    if not names:
        assert load_settings(environ=environ, env_file=None).default_framework == "narnia"
        return
    with pytest.raises(SettingsError) as error:
        load_settings(environ=environ, env_file=None)
    message = str(error.value)
    assert "\n" not in message
    assert all(name in message for name in names), message


def test_a_missing_bot_token_is_one_clear_line():
    settings = load_settings(environ={"SLACK_SIGNING_SECRET": "s"}, env_file=None)
    with pytest.raises(SettingsError) as error:
        settings.require_slack()
    assert "SLACK_BOT_TOKEN is not set" in str(error.value) and "\n" not in str(error.value)


def test_a_complete_environment_loads(tmp_path):
    settings = load_settings(environ={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PORT": "8080",
                                      "DATABASE_URL": "postgres://u:p@db:5432/growth"}, env_file=None)
    settings.require_slack()
    assert (settings.port, settings.database_url) == (8080, "postgres://u:p@db:5432/growth")


@pytest.mark.parametrize(("environ", "expected"), [
    ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN is not set"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PORT": "eighty"}, "PORT='eighty'"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "DATABASE_URL": "growth-bot.db"}, "DATABASE_URL="),
    # Parses as a URL, but not a database the bot runs on: caught at start-up, before serving.
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "DEFAULT_FRAMEWORK": "narnia"},
     "DEFAULT_FRAMEWORK='narnia'"),
])
def test_the_bot_refuses_to_start_with_one_clear_line(capsys, clean_env, environ, expected):
    clean_env.setenv("SCHEDULER_ENABLED", "false")
    for name, value in environ.items():
        clean_env.setenv(name, value)
    code, out, err = run_cli(capsys, "serve")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"growth-bot: {expected}"), err
    assert "Traceback" not in err


def test_a_setting_in_dot_env_is_read_and_the_environment_wins(clean_env, tmp_path):
    (tmp_path / ".env").write_text("PORT=4000\nLOG_LEVEL=debug\n")
    clean_env.setenv("PORT", "5000")
    settings = load_settings()
    assert (settings.port, settings.log_level) == (5000, "DEBUG")


# -- growth-bot ladder shows what Slack shows --------------------------------------------------


def slack_lines(blocks: list[dict]) -> list[str]:
    """The visible text of an ack, as lines, buttons excluded (the terminal has no Share)."""
    lines: list[str] = []
    for block in blocks:
        texts = []
        if block["type"] in ("header", "section") and "text" in block:
            texts.append(block["text"]["text"])
        texts += [f["text"] for f in block.get("fields", [])]
        if block["type"] == "context":
            texts += [e["text"] for e in block["elements"]]
        for text in texts:
            lines += [line.strip() for line in mrkdwn_to_text(text).splitlines() if line.strip()]
    return lines


@pytest.mark.parametrize("query", ["senior", "senior vs staff", "sizing", "stage 3 in roadmap", "senoir", "help",
                                   "definition doc and green light"])
def test_growth_bot_ladder_prints_what_slack_shows(capsys, clean_env, running_bot, query):
    reply = running_bot.command(f"/ladder {query}")
    assert reply.status == 200
    code, out, err = run_cli(capsys, "ladder", *query.split())
    assert code == 0, err

    printed = [line.strip() for line in out.splitlines()
               if line.strip() and not re.fullmatch(r"[=\-]+", line.strip())]
    slack = slack_lines(reply.blocks)
    button_row = [line for line in printed if line.startswith("[")]
    assert [line for line in printed if line not in button_row] == slack
    # Buttons show as labels, except "Share in channel", which only makes sense in Slack.
    labels = [b["text"]["text"] for block in reply.blocks if block["type"] == "actions"
              for b in block["elements"] if b["action_id"] != "ladder_share"]
    assert "".join(button_row) == ("[" + "] [".join(labels) + "]" if labels else "")
    # Slack's mrkdwn escapes are undone for the terminal.
    assert "&amp;" not in out and "&lt;" not in out
    if "&amp;" in reply.text():
        assert "&" in out


# -- whatever an org writes, a list of problems and never a traceback ---------------------------

FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FAST_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
WRONG_VALUES = [None, "", "text", 3, -1, True, [], {}, ["a"], {"x": 1}, [None], [[1]], 1.5, "Not An Id"]


def yaml_paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from yaml_paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from yaml_paths(value, prefix + (index,))


@pytest.mark.parametrize("seed", range(4))
def test_random_damage_gives_problems_not_tracebacks(content_copy, seed):
    rng = random.Random(seed)
    originals = {p.name: p.read_text(encoding="utf-8") for p in content_copy.glob("*.yaml")}
    parsed = {name: yaml.load(text, Loader=FAST_LOADER) for name, text in originals.items()}
    outcomes = Counter()
    for _ in range(25):
        name = rng.choice(sorted(originals))
        data = copy.deepcopy(parsed[name])
        path = rng.choice([p for p in yaml_paths(data) if p])
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.2:
            del parent[path[-1]]
        else:
            parent[path[-1]] = rng.choice(WRONG_VALUES)
        (content_copy / name).write_text(yaml.dump(data, Dumper=FAST_DUMPER), encoding="utf-8")
        try:
            load_catalog(content_copy)
            outcomes["loaded"] += 1
        except ContentError as error:
            assert error.problems and all(line.startswith((f"content/{name}", "content/crosswalk"))
                                          for line in error.problems), error.problems
            outcomes["problems"] += 1
        (content_copy / name).write_text(originals[name], encoding="utf-8")
    assert outcomes["problems"] > 0
