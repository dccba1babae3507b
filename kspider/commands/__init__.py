"""The project's Scrapy commands (COMMANDS_MODULE): ``crawl`` and ``runspider`` exit with the
status the crawl asked for (kspider.extensions.ExitStatus) instead of always 0."""
