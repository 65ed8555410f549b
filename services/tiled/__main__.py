"""``python -m services.tiled [--host H] [--port P]``: run the MLEx Tiled server."""

from __future__ import annotations

import argparse
import sys

from services.tiled.server import serve


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m services.tiled")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    serve(args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
