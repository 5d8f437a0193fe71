"""Maps the top-level folders into the one `crmsync` package (pyproject.toml holds the rest).

pyproject.toml can map a folder to a package, but not list a mapped folder's subpackages
by itself; this does both, from the folders as they are."""

from setuptools import find_packages, setup

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
              for sub in ["", *find_packages(folder)]],
)
