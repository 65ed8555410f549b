"""Entry point the workers run: ``python -m algorithms run NAME STEP --spec spec.json``.

Events go to stdout as JSON lines (see :mod:`algorithms.events`); anything else an algorithm or
library prints goes to stderr so the event stream stays clean. Exit codes: 0 success, 1 the run
failed, 2 bad usage, spec or parameters.
"""

from __future__ import annotations

import os

# OpenMP threads that spin while waiting starve each other on shared CPUs (MSDNet trains ~25x
# slower with the default policy on a busy 2-core host); must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json
import sqlite3  # noqa: F401 - bind the system SQLite before TensorFlow brings its own (no FTS5)
import sys
import traceback
from typing import NoReturn

from pydantic import ValidationError

from algorithms.errors import AlgorithmError, InputDataError, ParameterError
from algorithms.events import EventEmitter
from algorithms.registry import UnknownAlgorithmError, get_algorithm, list_algorithms
from algorithms.spec import JobSpec


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m algorithms", description="Run MLEx algorithms.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run one algorithm step from a spec file")
    run.add_argument("name", help="algorithm name")
    run.add_argument("step", choices=["train", "infer", "run"])
    run.add_argument("--spec", required=True, help="job spec JSON file")
    run.add_argument("--version", default=None, help="algorithm version (default: newest)")
    listing = sub.add_parser("list", help="list registered algorithms")
    listing.add_argument("--application", default=None)
    schema = sub.add_parser("schema", help="print an algorithm's parameter JSON Schema")
    schema.add_argument("name")
    schema.add_argument("--version", default=None)
    return parser


def _first_field(error: ValidationError) -> str | None:
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ())]
        if loc:
            return ".".join(loc)
    return None


def run_spec(name: str, step: str, spec: JobSpec, events: EventEmitter) -> int:
    """Run one algorithm step, reporting through ``events``; return the exit code."""
    try:
        info = get_algorithm(name, spec.version)
        if step not in info.steps:
            raise ParameterError(
                "step", f"{info.name} supports {', '.join(info.steps)}, not {step}"
            )
        params = info.parameters.model_validate(spec.parameters)
        runner = info.load_runner()
        summary = runner(spec=spec, params=params, step=step, events=events)
        events.result(**(summary or {}))
        return 0
    except UnknownAlgorithmError as error:
        events.error(str(error), field="algorithm")
        return 2
    except ValidationError as error:
        messages = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'parameters'}: {e['msg']}"
            for e in error.errors()
        )
        events.error(f"invalid parameters: {messages}", field=_first_field(error))
        return 2
    except ParameterError as error:
        events.error(str(error), field=error.field)
        return 2
    except (InputDataError, AlgorithmError) as error:
        events.error(str(error), field=getattr(error, "field", None))
        return 1
    except Exception as error:  # the run failed: report it, never crash silently
        traceback.print_exc(file=sys.stderr)
        events.error(f"{type(error).__name__}: {error}")
        return 1


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command == "list":
        for info in list_algorithms(args.application):
            print(f"{info.name}\t{info.version}\t{info.application}\t{','.join(info.steps)}")
        return 0
    if args.command == "schema":
        try:
            info = get_algorithm(args.name, args.version)
        except UnknownAlgorithmError as error:
            sys.stderr.write(f"python -m algorithms: error: {error}\n")
            return 2
        print(json.dumps(info.parameters_schema(), indent=2))
        return 0

    # Keep the real stdout for events; send stray prints from libraries to stderr.
    event_stream = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    events = EventEmitter(stream=event_stream)
    try:
        spec = JobSpec.from_file(args.spec)
    except FileNotFoundError:
        events.error(f"spec file not found: {args.spec}", field="spec")
        return 2
    except (ValidationError, ValueError) as error:
        field = _first_field(error) if isinstance(error, ValidationError) else None
        events.error(f"invalid spec file {args.spec}: {error}", field=field or "spec")
        return 2
    spec = spec.model_copy(update={"algorithm": args.name, "step": args.step})
    if args.version:
        spec = spec.model_copy(update={"version": args.version})
    return run_spec(args.name, args.step, spec, events)


if __name__ == "__main__":
    raise SystemExit(main())
