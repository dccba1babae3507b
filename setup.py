"""Packaging: ``scripts/setup.sh`` installs the project into ``.venv`` (editable) from this file, and
``scrapyd-deploy`` builds the project egg for Scrapyd from it (docs/OPERATING.md).

Only the ``kspider`` package (with its data files) goes into the egg; fixtures and
tests stay out. The ``scrapy`` entry point tells Scrapyd the settings module.
"""
from setuptools import find_namespace_packages, setup

setup(
    name="kspider",
    version="1.0",
    packages=find_namespace_packages(include=["kspider", "kspider.*"]),
    package_data={"kspider": ["extract/data/*.json", "templates/*.html"]},
    include_package_data=True,
    entry_points={"scrapy": ["settings = kspider.settings"]},
    zip_safe=False,
)
