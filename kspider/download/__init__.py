"""Downloader middlewares that judge what came back: per-site download outcome, the
charset a page really uses, and pages too large, too deep or cut off (flagged on the response)."""
