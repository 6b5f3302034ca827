"""Test, lint, docs and benchmark sessions for every package of the monorepo.

``nox`` runs the default sessions: one ``tests-<package>`` per package (that package
with the core and the plugins it declares), ``tests-all`` (every package installed,
the cross-package tests in ``tests/``), ``lint`` and ``docs``. ``nox -s bench`` runs
the benchmarks. Arguments after ``--`` go to pytest.
"""

from __future__ import annotations

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
    "hub": ["terminals"],
    "migrate": ["contents", "terminals"],
    "frontend": ["contents", "terminals"],  # its test extra brings jupyterlab and notebook
}
TEST_TOOLS = ["pytest>=8", "pytest-asyncio>=0.23", "pytest-timeout>=2", "ipykernel>=6.29", "openapi-spec-validator>=0.7", "argon2-cffi>=21"]


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
    # jupyter_server is a test-only dependency here: it plays the gateway client.
    session.install("jupyter_server>=2,<3")
    run_pytest(session, ROOT / "tests", env={"JCS_REQUIRE_GATEWAY_TEST": "1"})


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff", "mypy", "types-PyYAML")
    install_packages(session, plugins_of(list(PACKAGES)))
    session.run("ruff", "check", "packages", "tests", "bench", "noxfile.py")
    session.run("mypy", *[str(ROOT / "packages" / name / "src") for name in PACKAGES])


@nox.session
def docs(session: nox.Session) -> None:
    session.install("-r", str(ROOT / "docs" / "requirements.txt"))
    install_packages(session, plugins_of(list(PACKAGES)))
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    install_packages(session, plugins_of(list(PACKAGES)))
    session.run("python", str(ROOT / "bench" / "run.py"), *session.posargs)
