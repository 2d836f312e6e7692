"""`growth-bot`: run the bot, browse the ladder, check content, manage the database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.catalog import BUNDLED_CONTENT_DIR, ContentError, load_catalog
from bot.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except SettingsError as exc:
        print(f"growth-bot: {exc}", file=sys.stderr)
        return 2
    except ContentError as exc:
        print("growth-bot: the content is not valid:", file=sys.stderr)
        for line in exc.problems:
            print(f"  {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="growth-bot", description=__doc__)
    parser.set_defaults(run=_serve)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bot (the default)")
    serve.set_defaults(run=_serve)

    ladder = commands.add_parser("ladder", help="print what /ladder <query> answers")
    ladder.add_argument("query", nargs="*", help="e.g. senior, L4, 'senior vs staff'")
    ladder.set_defaults(run=_ladder)

    content = commands.add_parser("content", help="content tools").add_subparsers(metavar="ACTION")
    check = content.add_parser("check", help="validate a content folder")
    check.add_argument("directory", nargs="?", type=Path, help="default: CONTENT_DIR or the bundled content/")
    check.set_defaults(run=_content_check)

    db = commands.add_parser("db", help="database tools").add_subparsers(metavar="ACTION")
    upgrade = db.add_parser("upgrade", help="apply database migrations (Alembic) to DATABASE_URL")
    upgrade.set_defaults(run=_db_upgrade)

    from bot import cli_growth, cli_keys, cli_workspace

    cli_growth.add_commands(commands)
    cli_keys.add_commands(commands)
    cli_workspace.add_commands(commands)
    return parser


def _serve(args) -> int:
    from bot.runtime import run_bot

    run_bot(load_settings())
    return 0


def _ladder(args) -> int:
    from bot.blocks.ladder import build_ladder_messages
    from bot.ladder.answers import Ladder
    from bot.ladder.resolve import Resolver
    from bot.terminal import blocks_to_text

    settings = load_settings()
    catalog = load_catalog(settings.content_dir)
    ladder = Ladder(catalog, Resolver(catalog, settings.default_framework))
    messages = build_ladder_messages(ladder.answer(" ".join(args.query)), catalog, shareable=False)
    sys.stdout.write(blocks_to_text(messages))
    return 0


def _content_check(args) -> int:
    directory = args.directory
    if directory is None:
        try:
            directory = load_settings().content_dir
        except SettingsError:
            directory = BUNDLED_CONTENT_DIR
    catalog = load_catalog(directory)
    levels = sum(len(fw.levels) for fw in catalog.frameworks)
    questions = sum(len(lvl.questions) for lvl in catalog.all_levels()) + sum(
        len(fw.questions) for fw in catalog.frameworks)
    tracks = sum(len(fw.tracks) for fw in catalog.frameworks)
    themes = sum(len(fw.themes()) for fw in catalog.frameworks)
    stages = sum(len(fw.matrix.stages) for fw in catalog.frameworks if fw.matrix)
    print(f"{directory}: OK — {len(catalog.frameworks)} frameworks, {levels} levels, {tracks} tracks, "
          f"{themes} themes, {stages} matrix stages, {questions} questions, "
          f"{len(catalog.crosswalk.rows)} crosswalk rows")
    return 0


def _db_upgrade(args) -> int:
    from storage.db import make_engine, normalize_database_url, upgrade_database

    settings = load_settings()
    engine = make_engine(normalize_database_url(settings.database_url))
    upgrade_database(engine)
    print(f"Database is up to date ({engine.url.render_as_string(hide_password=True)}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
