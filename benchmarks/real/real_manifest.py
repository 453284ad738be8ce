"""The real projects of the proving ground: pinned sdists, their pinned test dependencies, and the
pinned measuring tools installed beside them (the reference tools and testwatch's own runtime).

Each project is an sdist from the package index that ships its test suite; its suite passes on
Python 3.11+ with these pins and runs in well under two minutes on a 2-core machine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RealProject:
    """A published project whose own tests the proving ground runs."""

    name: str  # distribution name on the index
    version: str
    packages: tuple[str, ...]  # the import names measured (``coverage run --source=A,B``)
    test_deps: tuple[str, ...]  # pinned requirements of its tests
    pytest_args: tuple[str, ...] = ("tests",)
    planted_dir: str = "tests"  # where the harness adds its memory test file
    # Tests whose outcome a trace function changes (dependency recording on 3.11 runs
    # coverage.py's tracer, as pytest-cov and pytest-testmon do): (nodeid, why) pairs.
    traced: tuple[tuple[str, str], ...] = ()

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


# The reference tools and the runtime the child pytest uses, identical in every project's venv.
TOOLS = (
    "pytest==9.2.0",
    "coverage==7.18.0",
    "memray==1.20.0",
    "pytest-json-report==1.5.0",
)

# The reference selection tool, installed on demand (``real_setup.ensure_testmon``).
TESTMON = "pytest-testmon==2.2.0"

PROJECTS = {
    project.name: project
    for project in (
        RealProject(
            "itsdangerous", "2.2.0", ("itsdangerous",),
            ("freezegun==1.5.5", "python-dateutil==2.9.0.post0", "six==1.17.0"),
        ),
        # tomlkit has no pytest section: pytest would climb from the work folder to this checkout's
        # pyproject.toml; -c keeps it on its own file, as when it stands alone.
        RealProject("tomlkit", "0.13.3", ("tomlkit",), ("PyYAML==6.0.2",), ("-c", "pyproject.toml", "tests")),
        RealProject("marshmallow", "3.26.1", ("marshmallow",), ("simplejson==3.20.1",)),
        # pytest-asyncio in auto mode, --import-mode=importlib, a module skipped at collection.
        RealProject(
            "structlog", "26.1.0", ("structlog",),
            ("pytest-asyncio==1.5.0", "simplejson==3.20.1", "time-machine==3.6.0", "rich==15.0.0"),
            traced=((
                "tests/test_tracebacks.py::test_recursive",
                "compares RecursionError's message, which reads '... while calling a Python object' "
                "under a trace function on 3.11",
            ),),
        ),
        # Tests inside the package (h11/tests, a data file read by a server thread), module-level
        # regexes built with str.format(**globals()). No pytest section either: -c as for tomlkit.
        RealProject(
            "h11", "0.16.0", ("h11",), (),
            pytest_args=("-c", "pyproject.toml", "h11"), planted_dir="h11/tests",
        ),
        # Templates read from files (FileSystemLoader, PackageLoader of a test package) and compiled
        # to code named after them; module-level policy dicts copied into every Environment;
        # trio beside asyncio in the async tests; filterwarnings = error.
        RealProject("jinja2", "3.1.6", ("jinja2",), ("trio==0.27.0",)),
        # Class attributes that many subclasses inherit (Response.charset, media_type), read by
        # every response; instances made at import in the test modules; anyio and trio; run as
        # root, two staticfiles permission tests fail in every run.
        RealProject(
            "starlette", "1.10.0", ("starlette",),
            ("itsdangerous==2.2.0", "Jinja2==3.1.6", "python-multipart==0.0.34", "PyYAML==6.0.4",
             "httpx==0.28.1", "httpx2[zstd]==2.16.2", "trio==0.35.0", "blockbuster==1.5.29",
             "importlib-metadata==10.2.0", "opentelemetry-api==1.45.2", "opentelemetry-sdk==1.45.2"),
        ),
        RealProject(
            "attrs", "25.3.0", ("attr", "attrs"),
            ("hypothesis==6.131.9", "pympler==1.1", "cloudpickle==3.1.1"),
        ),
    )
}

# The small project of the test suite's fast slice (tests/real/): seconds to install and run.
FAST_SLICE = "itsdangerous"
