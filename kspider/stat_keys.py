"""Names of the crawl stats that one component writes and another reads (docs/OPERATING.md
explains each). One place, so a renamed key cannot silently disable an exit code, a monitor
or a line of the run report. A trailing "/" means a suffix follows (an argument, host, field)."""

# Read by the exit status (kspider.extensions).
BAD_ARGUMENT = "spider/bad_argument/"  # + argument name
UNKNOWN_SITE = "spider/unknown_site/"  # + host given with -a sites=
BAD_START_URL = "route/bad_start_url"
REPLAY_DIR_MISSING = "replay/dir_missing"
STORE_SPILLED = "store/spilled_items"
STORE_UNREACHABLE = "store/unreachable"

# Read by the monitors and the run report.
POST_PAGES = "template/post_pages"
POST_PAGES_NO_ARTICLE = "template/post_pages_without_article"
POST_PAGES_SKIPPED = "template/post_pages_skipped/"  # + reason
ARTICLES_PARSED = "template/articles_parsed"
ARTICLE_MISSING = "template/article_missing/"  # + field
SITE_ITEMS = "monitor/site_items/"  # + host
SKIPPED = "incremental/skipped"  # posts the incremental crawl did not fetch again, all sites
SKIPPED_FOR_SITE = "incremental/skipped/"  # + host
COVERAGE = "coverage/"  # coverage/article/items, coverage/article/<field>, coverage/rental_ad/...
# Layout fallback: the spider counts FALLBACK + field when the generic extractor supplied a field
# its template's selectors missed; the drift middleware keeps the last page URLs per field under
# FALLBACK_URLS + field (a list), for the drift warning.
FALLBACK = "extract/fallback/"
FALLBACK_URLS = "extract/fallback_urls/"
