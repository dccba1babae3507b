"""Generate a large replay fixture set from the fixtures/021cf templates.

    .venv/bin/python bench/gen_replay_set.py OUT_DIR [--posts 5000] [--seed 11]

OUT_DIR gets two sets: ``021cf/`` (a copy of fixtures/021cf, so every page the
templates link to is served) and ``bench/`` (the generated pages, all on
kunshanmaigao.021cf.cn): ``--chains`` listing chains ``/index.php/category-900.html``,
``category-900_2.html`` …, ``category-901.html`` … (the category-3 page as template, 5 posts per page)
and ``--posts`` post pages ``/index.php/post/<100000+n>.html`` built from the
host's 10 post pages:

- news posts: the template's body paragraphs replaced by a random draw from
  every body paragraph of the fixture posts (so articles differ), numbers varied;
- listing posts (厂房出租 …): the template's ad with every figure varied (area,
  price, phone…), so each is a distinct rental ad and the articles are near-duplicates;
- 8 % near-duplicates (a copy of an earlier generated post with one paragraph
  changed) and 2 % exact reposts (same body under another URL: alt_urls).

Deterministic for a given seed. Prints the start URLs (comma-separated, for ``-a urls=``) and the page counts.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

import lxml.html

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "fixtures" / "021cf"
HOST = "kunshanmaigao.021cf.cn"
POST_IDS = ["2050", "1873", "2057", "2053", "2017", "1986", "2068", "2066", "2064", "2061"]
LISTING_TEMPLATE = "index.php/category-3.html"
FIRST_ID = 100000
# The template listing's main list: the posts linked three times or more (title, thumbnail, "read more");
# the others are the sidebar's and keep pointing at the real fixture posts.
PER_LISTING = 5
DATE_HEADER = "Thu, 19 Feb 2026 08:00:00 GMT"
BODY_XPATH = '//div[contains(concat(" ", normalize-space(@class), " "), " single ")]'
LISTING_TITLE = re.compile(r"(出租|出售|招租|转让)")
NUMBER = re.compile(r"\d+")


def vary_numbers(text: str, rng: random.Random) -> str:
    """Every run of digits replaced by another of the same length (mobile numbers stay mobile numbers)."""
    def repl(match: re.Match[str]) -> str:
        digits = match.group(0)
        if len(digits) == 11 and digits.startswith("1"):
            return "13" + "".join(rng.choice("0123456789") for _ in range(9))
        first = rng.choice("123456789") if len(digits) > 1 else rng.choice("0123456789")
        return first + "".join(rng.choice("0123456789") for _ in range(len(digits) - 1))
    return NUMBER.sub(repl, text)


def load_templates() -> tuple[dict[str, bytes], list[str]]:
    """The post pages (raw bytes) and every substantial body paragraph of the fixture posts."""
    pages: dict[str, bytes] = {}
    pool: list[str] = []
    for path in sorted((TEMPLATES).glob("*/index.php/post/*.html")):
        raw = path.read_bytes()
        doc = lxml.html.fromstring(raw)
        for body in doc.xpath(BODY_XPATH)[:1]:
            pool.extend(t for t in (p.text_content().strip() for p in body.xpath("./p")[1:]) if len(t) >= 30)
        if path.parent.parent.parent.name == HOST and path.stem in POST_IDS:
            pages[path.stem] = raw
    return pages, pool


def build_post(template: bytes, post_no: int, rng: random.Random, pool: list[str],
               paragraphs: list[str] | None = None) -> tuple[bytes, list[str]]:
    """A post page from a template; returns (html bytes, the body paragraphs it carries)."""
    doc = lxml.html.fromstring(template)
    title_el = doc.xpath("//title")[0]
    heading = doc.xpath("//h1")[-1]
    old_title = heading.text_content().strip()
    listing = bool(LISTING_TITLE.search(old_title))
    body = doc.xpath(BODY_XPATH)[0]
    paras = body.xpath("./p")
    kept = [p for p in paras[1:] if p.text_content().strip()]
    if paragraphs is None:
        if listing:
            paragraphs = [vary_numbers(p.text_content(), rng) for p in kept]
        else:
            paragraphs = [vary_numbers(t, rng) for t in rng.sample(pool, k=min(len(pool), rng.randint(4, 9)))]
    for p in kept:
        p.getparent().remove(p)
    for text in paragraphs:
        el = lxml.html.Element("p")
        el.text = text
        body.append(el)
    new_title = vary_numbers(old_title, rng) if listing else f"{old_title}（{post_no}）"
    title_el.text = (title_el.text or "").replace(old_title, new_title)
    for el in heading.iter():
        if el.text and old_title in el.text:
            el.text = el.text.replace(old_title, new_title)
    if heading.text_content().strip() != new_title:
        heading.text = new_title
        for child in list(heading):
            heading.remove(child)
    html = lxml.html.tostring(doc, encoding="utf-8", doctype="<!DOCTYPE html>")
    return html, paragraphs


def relocate(html: bytes, template_id: str, post_id: int) -> bytes:
    """The template's own URL (canonical link, share links…) becomes the new post's."""
    return html.replace(f"/index.php/post/{template_id}.html".encode(), f"/index.php/post/{post_id}.html".encode())


def build_listing(template: str, category: int, page: int, pages: int, post_ids: list[int]) -> bytes:
    """Page ``page`` of listing chain ``category``: the template's post links replaced by ``post_ids``."""
    found = re.findall(r"/index\.php/post/(\d+)\.html", template)
    main_list = [pid for pid in dict.fromkeys(found) if found.count(pid) >= 3][:PER_LISTING]
    mapping = {old: str(post_ids[i]) for i, old in enumerate(main_list) if i < len(post_ids)}
    # A short last page: its unused main-list slots point at its first post (a duplicate, filtered).
    mapping.update({old: str(post_ids[0]) for old in main_list if old not in mapping})
    html = re.sub(r"/index\.php/post/(\d+)\.html",
                  lambda m: f"/index.php/post/{mapping.get(m.group(1), m.group(1))}.html", template)
    this_url = listing_path(category, page)
    next_url = listing_path(category, page + 1) if page < pages else this_url
    html = html.replace("/index.php/category-3_2.html", next_url).replace("/index.php/category-3.html", this_url)
    return html.encode("utf-8")


def listing_path(category: int, page: int) -> str:
    return f"/index.php/category-{category}.html" if page == 1 else f"/index.php/category-{category}_{page}.html"


def generate(out: Path, posts: int, seed: int = 11, chains: int = 10) -> dict[str, Any]:
    rng = random.Random(seed)
    templates, pool = load_templates()
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(TEMPLATES, out / "021cf", ignore=shutil.ignore_patterns("*.py", "expected.json", "README.md"))
    bench = out / "bench"
    manifest: list[dict[str, Any]] = []

    def add(path: str, body: bytes) -> None:
        target = bench / HOST / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        manifest.append({"url": f"http://{HOST}/{path}", "status": 200, "body": f"{HOST}/{path}",
                         "headers": {"Content-Type": "text/html; charset=utf-8", "Date": DATE_HEADER}})

    made: list[tuple[str, list[str]]] = []
    counts = {"posts": posts, "near_duplicates": 0, "reposts": 0, "listing_posts": 0}
    for n in range(posts):
        roll = rng.random()
        if made and roll < 0.02:
            template_id, paragraphs = rng.choice(made)  # exact repost: same body, same title
            counts["reposts"] += 1
            html, _ = build_post(templates[template_id], n, random.Random(n), pool, list(paragraphs))
        elif made and roll < 0.10:
            template_id, paragraphs = rng.choice(made)
            changed = list(paragraphs)
            changed[rng.randrange(len(changed))] = vary_numbers(rng.choice(pool), rng)
            counts["near_duplicates"] += 1
            html, paragraphs = build_post(templates[template_id], n, rng, pool, changed)
        else:
            template_id = rng.choice(POST_IDS)
            html, paragraphs = build_post(templates[template_id], n, rng, pool)
            made.append((template_id, paragraphs))
        if LISTING_TITLE.search(lxml.html.fromstring(templates[template_id]).xpath("//h1")[-1].text_content()):
            counts["listing_posts"] += 1
        add(f"index.php/post/{FIRST_ID + n}.html", relocate(html, template_id, FIRST_ID + n))
    listing_template = (TEMPLATES / HOST / LISTING_TEMPLATE).read_text(encoding="utf-8")
    # Several listing chains (categories 900, 901, …), as a site has several categories: one chain
    # is a frontier one listing page wide, which no number of workers can crawl in parallel.
    chains = max(1, min(chains, posts))
    total_pages = 0
    for chain in range(chains):
        ids_of_chain = [FIRST_ID + n for n in range(chain, posts, chains)]
        pages = (len(ids_of_chain) + PER_LISTING - 1) // PER_LISTING
        for page in range(1, pages + 1):
            ids = ids_of_chain[(page - 1) * PER_LISTING : page * PER_LISTING]
            add(listing_path(900 + chain, page).lstrip("/"), build_listing(listing_template, 900 + chain, page, pages, ids))
        total_pages += pages
    with open(bench / "manifest.jsonl", "w", encoding="utf-8") as fh:
        for line in manifest:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    counts["listing_pages"] = total_pages
    counts["start_urls"] = ",".join(f"http://{HOST}{listing_path(900 + c, 1)}" for c in range(chains))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--chains", type=int, default=10, help="listing chains (categories 900…)")
    args = parser.parse_args()
    print(json.dumps(generate(args.out, args.posts, args.seed, args.chains), ensure_ascii=False))


if __name__ == "__main__":
    main()
