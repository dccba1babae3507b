"""Command line: ``python -m kspider.extract clean|date|phones|ad TEXT [--ref HTTP-DATE] [--site HOST] [--title T]``.

Prints one JSON value. TEXT "-" reads standard input.

    clean   {"text", "flags", "lang", "text_hans"}   (site rules from --site)
    date    {"iso", "precision", "raw"}               (against --ref, else now; zone of --site)
    phones  ["+86…", …]
    ad      {…} or null                               (--title passed through)
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any, Optional, Sequence

from kspider.sites import Site, site_for_host


def _site(host: Optional[str]) -> Optional[Site]:
    return site_for_host(host) if host else None


def run(command: str, text: str, ref: Optional[str] = None, site_host: Optional[str] = None,
        title: Optional[str] = None) -> Any:
    """The JSON-ready result of one subcommand."""
    site = _site(site_host)
    if command == "clean":
        from kspider.extract.text import clean_text

        return asdict(clean_text(text, site))
    if command == "date":
        from kspider.extract.dates import http_date, parse_date

        reference = http_date(ref) if ref else None
        if reference is None:
            reference = datetime.now(timezone.utc)
        return asdict(parse_date(text, reference, site.tz if site else "Asia/Shanghai"))
    if command == "phones":
        from kspider.extract.phones import extract_phones  # written elsewhere; loaded only here

        return extract_phones(text)
    if command == "ad":
        from kspider.extract.ads import extract_ad  # written elsewhere; loaded only here

        return extract_ad(text, title=title)
    raise ValueError(f"unknown command {command!r}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kspider.extract", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("clean", "date", "phones", "ad"))
    parser.add_argument("text", help='the text; "-" reads standard input')
    parser.add_argument("--ref", help="reference time as an HTTP Date (default: now)")
    parser.add_argument("--site", help="host of a site in the registry (its rules and time zone)")
    parser.add_argument("--title", help="title, for the ad extractor")
    args = parser.parse_args(argv)
    if args.ref and args.command == "date":
        from kspider.extract.dates import http_date

        if http_date(args.ref) is None:
            parser.error(f"--ref is not an HTTP date: {args.ref!r}")
    text = sys.stdin.read() if args.text == "-" else args.text
    result = run(args.command, text, ref=args.ref, site_host=args.site, title=args.title)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
