"""Command line: ``python -m kspider.extract clean|date|phones|ad TEXT [--ref HTTP-DATE] [--site HOST] [--title T]``.

Prints one JSON value. TEXT "-" reads standard input.
``python -m kspider.extract article FILE.html --url URL [--ref HTTP-DATE] [--tz ZONE]`` reads a saved page
(bytes, decoded by its charset like Scrapy does) and prints the generic extractor's ArticleResult.

    clean   {"text", "flags", "lang", "text_hans"}   (site rules from --site)
    date    {"iso", "precision", "raw"}               (against --ref, else now; zone of --site)
    phones  ["+86…", …]
    ad      {…} or null                               (--title passed through)
    article {"title", "published_at", "content_text", …} (ArticleResult; --url required)
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


def article(path: str, url: str, ref: Optional[str] = None, tz: Optional[str] = None,
            site_host: Optional[str] = None) -> dict[str, Any]:
    """The generic extractor's result for a saved page ("-": standard input), JSON-ready."""
    from kspider.extract.article import extract_article
    from kspider.extract.dates import http_date

    data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    reference = (http_date(ref) if ref else None) or datetime.now(timezone.utc)
    site = _site(site_host)
    zone = tz or (site.tz if site else "Asia/Shanghai")
    return asdict(extract_article(data, url, reference, zone))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kspider.extract", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("clean", "date", "phones", "ad", "article"))
    parser.add_argument("text", help='the text (for article: an HTML file); "-" reads standard input')
    parser.add_argument("--ref", help="reference time as an HTTP Date (default: now)")
    parser.add_argument("--site", help="host of a site in the registry (its rules and time zone)")
    parser.add_argument("--title", help="title, for the ad extractor")
    parser.add_argument("--url", help="the page's URL, for article (links, images and URL dates)")
    parser.add_argument("--tz", help="time zone of the site, for article (default: --site's, else Asia/Shanghai)")
    args = parser.parse_args(argv)
    if args.ref and args.command in ("date", "article"):
        from kspider.extract.dates import http_date

        if http_date(args.ref) is None:
            parser.error(f"--ref is not an HTTP date: {args.ref!r}")
    if args.command == "article":
        if not args.url:
            parser.error("article needs --url")
        try:
            result: Any = article(args.text, args.url, ref=args.ref, tz=args.tz, site_host=args.site)
        except OSError as exc:
            parser.exit(1, f"cannot read {args.text}: {exc}\n")
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    text = sys.stdin.read() if args.text == "-" else args.text
    result = run(args.command, text, ref=args.ref, site_host=args.site, title=args.title)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
