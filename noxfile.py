"""Test, lint, docs and benchmark sessions for every package of the monorepo.

``nox`` runs the default sessions: one ``tests-<package>`` per package (that package
with the core and the plugins it declares), ``tests-all`` (every package installed,
the cross-package tests in ``tests/``), ``lint``, ``docs``, and the conformance
sessions ``install-matrix``, ``node-client`` and ``fuzz``. ``nox -s bench`` runs the
benchmarks. Arguments after ``--`` go to pytest.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.reuse_existing_virtualenvs = False
nox.options.error_on_missing_interpreters = False

# package folder -> plugin folders it needs besides the core
PACKAGES: dict[str, list[str]] = {
    "core": [],
    "contents": [],
    "terminals": [],
    "nbconvert-ext": ["contents"],
    "hub": ["terminals", "contents", "frontend"],  # the real-hub page test spawns contents + frontend + hub
    "migrate": ["contents", "terminals"],
    "frontend": ["contents", "terminals"],  # its test extra brings jupyterlab and notebook
}
TEST_TOOLS = [
    "pytest>=8",
    "pytest-asyncio>=0.23",
    "pytest-timeout>=2",
    "ipykernel>=6.29",
    "openapi-spec-validator>=0.7",
    "argon2-cffi>=21",
]


def install_packages(session: nox.Session, plugins: list[str]) -> None:
    """Install the test tools, the core and the given plugin folders."""
    session.install(*TEST_TOOLS)
    session.install(*[str(ROOT / "packages" / name) for name in ["core", *plugins]])


def plugins_of(names: list[str]) -> list[str]:
    return [name for name in dict.fromkeys(names) if name != "core"]


def run_pytest(session: nox.Session, tests: Path, env: dict[str, str] | None = None) -> None:
    """Run pytest from the tests' folder, so the nearest pytest configuration applies."""
    # A test folder that collects nothing is an error (pytest exit code 5), never a silent pass.
    session.run("pytest", str(tests), *session.posargs, env=env or {})


for package, needs in PACKAGES.items():

    @nox.session(name=f"tests-{package}")
    def tests_package(session: nox.Session, package: str = package, needs: list[str] = needs) -> None:
        install_packages(session, plugins_of([*needs, package]))
        session.install(f"{ROOT / 'packages' / package}[test]")  # its own test needs (hub: a real JupyterHub)
        if package == "core":
            session.install(str(ROOT / "tests" / "fixtures" / "jcs-test-provisioner"))
        run_pytest(session, ROOT / "packages" / package / "tests")


@nox.session(name="tests-all")
def tests_all(session: nox.Session) -> None:
    install_packages(session, plugins_of(list(PACKAGES)))
    session.install(str(ROOT / "tests" / "fixtures" / "jcs-demo-plugin"))
    # jupyter_server is a test-only dependency here: it plays the gateway client;
    # playwright drives the system Chromium in the cross-site export test; the frontend's
    # test extra brings the JupyterLab and Notebook 7 files the plugins-together test serves.
    session.install("jupyter_server>=2,<3", f"{ROOT / 'packages' / 'frontend'}[test]")
    run_pytest(session, ROOT / "tests", env={"JCS_REQUIRE_GATEWAY_TEST": "1"})


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff", "mypy", "types-PyYAML")
    install_packages(session, plugins_of(list(PACKAGES)))
    linted = ["packages", "tests", "bench", "docs/_ext", "noxfile.py"]
    session.run("ruff", "check", *linted)
    session.run("ruff", "format", "--check", *linted)
    # Each package with its own configuration (strict), as its maintainers run it.
    for name in PACKAGES:
        package = ROOT / "packages" / name
        session.run("mypy", "--config-file", str(package / "pyproject.toml"), str(package / "src"))


@nox.session
def docs(session: nox.Session) -> None:
    session.install("-r", str(ROOT / "docs" / "requirements.txt"))
    install_packages(session, plugins_of(list(PACKAGES)))
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


# -- conformance: the install matrix, JupyterLab's own client, schema fuzzing -----------------


def distribution_name(folder: str) -> str:
    """The distribution name a package folder's pyproject.toml declares."""
    match = re.search(
        r'^name\s*=\s*"([^"]+)"', (ROOT / "packages" / folder / "pyproject.toml").read_text(), re.MULTILINE
    )
    assert match, f"no project name in packages/{folder}/pyproject.toml"
    return match.group(1)


@nox.session(name="install-matrix")
def install_matrix(session: nox.Session) -> None:
    """The core alone, then the core with each package (and the plugins it declares), in one environment.

    The core alone runs all of ``tests/conformance``; each other combination runs the
    install check and the route-driven hostile-input tests, then is uninstalled again.
    Everything together is ``tests-all``.
    """
    install_packages(session, [])
    conformance = ROOT / "tests" / "conformance"
    run_pytest(session, conformance, env={"JCS_EXPECT_DISTRIBUTIONS": ""})
    for package, needs in PACKAGES.items():
        plugins = plugins_of([*needs, package])
        if not plugins:
            continue
        session.log(f"install matrix: core + {', '.join(plugins)}")
        session.install(*[str(ROOT / "packages" / name) for name in plugins])
        expected = ",".join(distribution_name(name) for name in plugins)
        for test in ("test_install_matrix.py", "test_hostile_http.py"):
            run_pytest(session, conformance / test, env={"JCS_EXPECT_DISTRIBUTIONS": expected})
        session.run(
            "python", "-m", "pip", "uninstall", "--yes", "--quiet", *[distribution_name(name) for name in plugins]
        )


@nox.session(name="node-client")
def node_client(session: nox.Session) -> None:
    """``@jupyterlab/services`` in Node drives a server with every plugin (npm packages pinned by the lockfile)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        session.skip("Node.js and npm are not installed: the @jupyterlab/services client test cannot run")
    install_packages(session, plugins_of(list(PACKAGES)))
    with session.chdir(ROOT / "tests" / "node_client"):
        session.run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", external=True)
    run_pytest(session, ROOT / "tests" / "node_client", env={"JCS_REQUIRE_NODE_CLIENT": "1"})


@nox.session
def fuzz(session: nox.Session) -> None:
    """schemathesis against /api/spec.yaml and jupyter_server's spec, bounded (JCS_FUZZ_EXAMPLES per operation)."""
    install_packages(session, plugins_of(list(PACKAGES)))
    session.install("schemathesis>=4,<5", "jupyter_server>=2,<3")
    run_pytest(session, ROOT / "tests" / "fuzz", env={"JCS_REQUIRE_FUZZ": "1"})


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """This server vs jupyter_server (own venv, built by bench/run.py) vs a bare aiohttp app vs direct ZMQ.

    ``nox -s bench`` runs everything (about 20 minutes); ``nox -s bench -- --quick`` every scenario
    with small sizes (under 3 minutes). Arguments after ``--`` go to bench/run.py; the
    Markdown summary is printed and written next to the JSON results in bench/results/.
    """
    install_packages(session, plugins_of(list(PACKAGES)))
    session.run("python", str(ROOT / "bench" / "run.py"), *session.posargs)
