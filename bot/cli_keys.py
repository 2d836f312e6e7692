"""`growth-bot keys …`: encryption keys for what engineers write (storage.crypto).

    growth-bot keys new        # print a fresh key
    growth-bot keys rotate     # re-encrypt every stored value under the newest key

To rotate: put the new key first in GROWTH_ENCRYPTION_KEY (or the key file), keep the old one
after it, restart every instance, then run `keys rotate` (while the bot runs); once it says
nothing is left under another key, the old key can go.
"""

from __future__ import annotations

import sys


def add_commands(commands) -> None:
    keys = commands.add_parser("keys", help="encryption keys for what engineers write").add_subparsers(
        metavar="ACTION")
    new = keys.add_parser("new", help="print a fresh key (for GROWTH_ENCRYPTION_KEY or a key file)")
    new.set_defaults(run=_new)
    rotate = keys.add_parser(
        "rotate", help="re-encrypt every stored value under the newest key, and encrypt plain text left from "
                       "before encryption (in batches, while the bot runs; resumable)")
    rotate.add_argument("--batch", type=int, default=None, help="rows per transaction (default 500)")
    rotate.set_defaults(run=_rotate)


def _new(args) -> int:
    from storage.crypto import new_key

    print(new_key())
    return 0


def _rotate(args) -> int:
    from bot.runtime import open_database
    from bot.settings import load_settings
    from storage.crypto import UnreadableValue, installed_keyring
    from storage.key_rotation import DEFAULT_BATCH, checkpoint_wal, left_behind, rotate
    from storage.uow import UnitOfWork

    batch = args.batch or DEFAULT_BATCH
    if batch < 1:
        print("growth-bot: --batch takes a whole number of rows, at least 1.", file=sys.stderr)
        return 2
    engine = open_database(load_settings())
    try:
        uow, keyring = UnitOfWork.on(engine), installed_keyring()
        print(f"Re-encrypting under key {keyring.current_id} (keys held: {', '.join(keyring.ids)}), "
              f"{batch} rows per transaction.", flush=True)

        def report(progress) -> None:
            print(f"  {progress.column}: {progress.seen:,} of {progress.rows:,} rows looked at, "
                  f"{progress.rewritten:,} re-encrypted", flush=True)

        try:
            done = rotate(uow, keyring, batch, report)
        except UnreadableValue as exc:
            print(f"growth-bot: stopped ({exc}); rows done so far stay done: run it again with that key.",
                  file=sys.stderr)
            return 2
        for progress in done:
            print(f"{progress.column}: {progress.rewritten:,} of {progress.seen:,} rows re-encrypted")
        left = {column: count for column, count in left_behind(uow, keyring).items() if count}
        if left:
            # Written while the walk ran, by an instance whose newest key is another one.
            detail = ", ".join(f"{column} {count:,}" for column, count in left.items())
            print(f"growth-bot: still under another key or plain ({detail}): is every instance running with "
                  f"key {keyring.current_id} first? Restart them, then rotate again.", file=sys.stderr)
            return 1
        print(f"Every encrypted value is under key {keyring.current_id}; older keys can be removed.")
        if checkpoint_wal(uow) is False:
            print("The SQLite WAL is still in use by the bot; it is emptied at its next checkpoint.")
        return 0
    finally:
        engine.dispose()
