"""``python -m refs.testing.replay``: run the replay server alone."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path

from refs.testing.replay import ReplayData, ReplayServer, published_limits

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m refs.testing.replay",
        description="A replay server for the metadata services.",
    )
    parser.add_argument("--fixtures", type=Path, default=Path("tests/fixtures"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--limits", choices=["published", "none"], default="none")
    parser.add_argument(
        "--synthetic", default="", help="DOIS,PMIDS,PMCIDS load-test records to derive"
    )
    parser.add_argument("--ids-file", type=Path, help="write the synthetic identifiers here (JSON)")
    args = parser.parse_args(argv)
    data = ReplayData.from_fixtures(args.fixtures)
    if args.synthetic:
        n_doi, n_pmid, n_pmcid = (int(x) for x in args.synthetic.split(","))
        ids = data.synthesize(n_doi, n_pmid, n_pmcid)
        if args.ids_file:
            args.ids_file.write_text(json.dumps({"doi": ids[0], "pmid": ids[1], "pmcid": ids[2]}))
        # Indexed before listening: building it on the first search would stall every
        # answer for seconds in the middle of a benchmark (one event loop serves all).
        data.search_index()
    server = ReplayServer(
        data,
        limits=published_limits() if args.limits == "published" else None,
        latency=args.latency,
        port=args.port,
    )

    async def run() -> None:
        task = asyncio.create_task(server.serve_forever())
        while not server._ready.is_set():
            await asyncio.sleep(0.01)
        print(f"listening on {server.url}", flush=True)
        await task

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    sys.exit(0)


if __name__ == "__main__":
    main()
