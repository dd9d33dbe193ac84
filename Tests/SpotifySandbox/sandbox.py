#!/usr/bin/env python3
"""Spotify sandbox: a local stand-in for the Spotify Web API and accounts service (SPEC §6, §9).

Serves the accounts service (POST /api/token) and the Web API (/v1/...) on one base URL, plus
inspection and control endpoints under /_sandbox/. Python 3 standard library only.
"""

import argparse
import os
import signal
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from spotify_sandbox.accounts import CLIENT_ID, CLIENT_SECRET  # noqa: E402
from spotify_sandbox.catalogue import (  # noqa: E402
    DEFAULT_FOLLOWS_MAX, DEFAULT_FOLLOWS_MIN, MIN_ARTISTS, MIN_USERS, Catalogue)
from spotify_sandbox.clock import SandboxClock, format_iso8601, parse_iso8601  # noqa: E402
from spotify_sandbox.server import SandboxHTTPServer  # noqa: E402
from spotify_sandbox.state import SandboxState  # noqa: E402


def non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def iso_instant(text):
    try:
        return parse_iso8601(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date-time: {text!r}") from None


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="sandbox.py",
        description=(
            "Spotify sandbox: serves the accounts service (POST /api/token) and the Web API (/v1/...) "
            f"on one base URL. Client id {CLIENT_ID!r}, client secret {CLIENT_SECRET!r}. "
            "Inspection and control without auth under /_sandbox/ (users, catalogue, playlists, stats, "
            "reset-stats, config, reset)."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=non_negative_int, default=0,
                        help="TCP port; 0 = any free port (default 0); see --port-file")
    parser.add_argument("--port-file", metavar="F",
                        help="write the chosen port to F (atomically) once the socket listens")
    parser.add_argument("--seed", type=int, default=1, help="catalogue seed (default 1)")
    parser.add_argument("--users", type=int, default=8, help=f"number of users, at least {MIN_USERS} (default 8)")
    parser.add_argument("--artists", type=int, default=120,
                        help=f"number of artists, at least {MIN_ARTISTS} (default 120)")
    parser.add_argument("--follows-min", type=non_negative_int, default=DEFAULT_FOLLOWS_MIN, metavar="N",
                        help="fewest artists a user follows (default %(default)s); the first user follows "
                             "at least 51, the hard-case artists among them")
    parser.add_argument("--follows-max", type=non_negative_int, default=DEFAULT_FOLLOWS_MAX, metavar="N",
                        help="most artists a user follows (default %(default)s; the first user at least 51); "
                             "follows are drawn from a shared pool, popular artists more often")
    parser.add_argument("--now", type=iso_instant, metavar="ISO-8601",
                        help="sandbox time at start (default: the real current UTC time); the catalogue "
                             "is generated around it")
    parser.add_argument("--rate-limit", type=non_negative_int, default=0, metavar="N",
                        help="accepted /v1 requests per rolling 30 s before 429s; 0 = none (default 0)")
    parser.add_argument("--daily-quota", type=non_negative_int, default=0, metavar="N",
                        help="accepted /v1 requests per rolling 24 h before 429 QUOTA_EXCEEDED; 0 = none (default 0)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def write_port_file(path, port):
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(f"{port}\n")
    os.replace(temporary, target)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    start = args.now or datetime.now(timezone.utc)
    clock = SandboxClock(start)
    try:
        catalogue = Catalogue(args.seed, args.users, args.artists, start, args.follows_min, args.follows_max)
    except ValueError as error:
        print(f"sandbox.py: error: {error}", file=sys.stderr)
        return 2
    state = SandboxState(catalogue, clock, args.seed, args.rate_limit, args.daily_quota)
    try:
        server = SandboxHTTPServer((args.host, args.port), state, verbose=args.verbose)
    except OSError as error:
        print(f"sandbox.py: error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    port = server.server_address[1]

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    if args.port_file:
        write_port_file(args.port_file, port)
    print(f"Spotify sandbox listening on {server.default_base()} (seed {args.seed}, {len(catalogue.users)} users, "
          f"{args.artists} artists, now {format_iso8601(start)})", file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        if args.port_file:
            try:
                os.unlink(args.port_file)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
