#!/usr/bin/env python3
"""Command line of the rig, for the Swift client tests and scripts:

    rig.py serve [--no-pool] [--no-nginx] [--sandbox-arg=ARG ...]

starts the components, prints one JSON line with their addresses and settings, and keeps them up until its
standard input closes or it is terminated; then it stops and removes everything."""

import argparse
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xomify_rig import Rig  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--no-pool", action="store_true")
    serve.add_argument("--no-nginx", action="store_true")
    serve.add_argument("--no-sandbox", action="store_true")
    serve.add_argument("--sandbox-arg", action="append", default=[])
    args = parser.parse_args()

    rig = Rig(sandbox=not args.no_sandbox, sandbox_args=args.sandbox_arg)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        rig.start(pool=not args.no_pool, nginx=not args.no_pool and not args.no_nginx)
        settings = {k: v for k, v in rig.settings().items() if k.startswith("XOMIFY_")}
        print(json.dumps({"directory": rig.directory, "baseURL": rig.base_url,
                          "sandboxURL": rig.sandbox.url if rig.sandbox else None,
                          "postgresPort": rig.postgres.port, "settings": settings}), flush=True)
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
        stop.wait()
    finally:
        rig.close()


if __name__ == "__main__":
    main()
