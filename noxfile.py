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
}
TEST_TOOLS = ["pytest>=8", "pytest-asyncio>=0.23", "pytest-timeout>=2", "ipykernel>=6.29", "openapi-spec-validator>=0.7", "argon2-cffi>=21"]


def install_packages(session: nox.Session, plugins: list[str]) -> None:
    """Install the test tools, the core and the given plugin folders."""
    session.install(*TEST_TOOLS)
    session.install(*[str(ROOT / "packages" / name) for name in ["core", *plugins]])


def plugins_of(names: list[str]) -> list[str]:
    return [name for name in dict.fromkeys(names) if name != "core"]


for package, needs in PACKAGES.items():

    @nox.session(name=f"tests-{package}")
    def tests_package(session: nox.Session, package: str = package, needs: list[str] = needs) -> None:
        install_packages(session, plugins_of([*needs, package]))
        session.run("pytest", str(ROOT / "packages" / package / "tests"), *session.posargs)


@nox.session(name="tests-all")
def tests_all(session: nox.Session) -> None:
    install_packages(session, plugins_of(list(PACKAGES)))
    session.install("-e", str(ROOT / "tests" / "fixtures" / "jcs-demo-plugin"))
    session.run("pytest", str(ROOT / "tests"), *session.posargs)


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
