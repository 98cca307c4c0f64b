"""Run localstripe (a Stripe-compatible test server) on loopback only.

localstripe's own entry point binds `::` (every interface) and has no option to choose
the address, so we serve its aiohttp application ourselves on 127.0.0.1. It also pickles
its whole store to /tmp/localstripe.pickle after every write (one file shared by every
instance on the machine): we point that at `--state-file`, or switch it off.

    python -m infra.localstripe_server --port 8420 [--state-file .data/localstripe.pickle]
"""

from __future__ import annotations

import argparse
import pickle
import types
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state-file", type=Path, default=None, help="keep the data between runs in this file")
    args = parser.parse_args(argv)

    from aiohttp import web
    from localstripe import resources
    from localstripe.server import app

    store = resources.store
    state_file: Path | None = args.state_file

    def dump(self) -> None:
        if state_file is not None:
            temporary = state_file.with_suffix(".tmp")
            with open(temporary, "wb") as handle:
                pickle.dump(dict(self), handle, protocol=pickle.HIGHEST_PROTOCOL)
            temporary.replace(state_file)

    store.dump_to_disk = types.MethodType(dump, store)
    if state_file is not None and state_file.exists():
        with open(state_file, "rb") as handle:
            dict.update(store, pickle.load(handle))  # noqa: S301 - our own file, written above
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=lambda text: print(text, flush=True))


if __name__ == "__main__":
    main()
