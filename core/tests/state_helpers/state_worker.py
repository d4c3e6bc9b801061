"""A separate process using a SqliteBackend, for the state tests.

Usage::

    state_worker.py write DB SCOPE KEY JSON      # set KEY to the decoded JSON, then exit
    state_worker.py read DB SCOPE KEY            # print the value as JSON ("null" if missing)
    state_worker.py increment DB SCOPE KEY N GO  # wait for file GO, then update(+1) N times,
                                                 # printing the returned values as a JSON list
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import trio

from llmspell.state import SqliteBackend


async def main(argv: list[str]) -> None:
    command, db, scope, key, *rest = argv
    async with SqliteBackend(db) as backend:
        if command == "write":
            await backend.set(scope, key, json.loads(rest[0]))
        elif command == "read":
            print(json.dumps(await backend.get(scope, key)))
        elif command == "increment":
            count, go = int(rest[0]), Path(rest[1])
            deadline = time.monotonic() + 30
            while not go.exists() and time.monotonic() < deadline:
                await trio.sleep(0.005)
            seen = [await backend.update(scope, key, lambda n: n + 1, 0) for _ in range(count)]
            print(json.dumps(seen))
        else:
            raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    trio.run(main, sys.argv[1:])
