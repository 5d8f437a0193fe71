"""Maps the top-level folders into the one `crmsync` package (pyproject.toml holds the rest).

pyproject.toml can map a folder to a package, but not list a mapped folder's subpackages
by itself; this does both, from the folders as they are. Every subfolder is listed, with an
__init__.py or without: a data folder (transforms/project/marts/, sources/<provider>/staging/,
*/sql/) is then a package too, and pyproject's package-data patterns install its files
(a non-editable install would leave them out otherwise)."""

from setuptools import find_namespace_packages, setup

FOLDERS = {
    "crmsync": "crmsync",  # the command line
    "crmsync.kernel": "kernel",
    "crmsync.sources": "sources",
    "crmsync.sandbox": "sandbox",
    "crmsync.pipelines": "pipelines",
    "crmsync.transforms": "transforms",
    "crmsync.flows": "flows",
    "crmsync.benchmarks": "benchmarks",
}

setup(
    package_dir=FOLDERS,
    packages=[f"{package}.{sub}" if sub else package
              for package, folder in FOLDERS.items()
              for sub in ["", *find_namespace_packages(folder, exclude=["__pycache__", "*.__pycache__"])]],
)
