"""Shared fixtures: real SQLite files and, when configured, real PostgreSQL databases.

``SANHU_TEST_DATABASE_URL`` points at a PostgreSQL server database (e.g.
``postgresql://postgres@127.0.0.1:5432/test``).  Each test run creates its own
template database there (migrated once), each test gets a fresh copy, and all
are dropped at the end, so runs never collide.  Without the variable the
PostgreSQL variants skip with a clear reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ledger.core.actors import Actor
from ledger.core.db import normalise_url
from ledger.core.models import Role, Unit
from ledger.core.settings import Settings
from ledger.instance.bootstrap import Sanhu, bootstrap
from ledger.instance.migrate import upgrade
from ledger.org.directory import add_unit, add_user

pytest_plugins = ["browser_fixtures", "web_fixtures", "api_fixtures"]

PG_ENV = "SANHU_TEST_DATABASE_URL"
PG_SKIP = f"{PG_ENV} is not set: no PostgreSQL server to test against"
PASSWORD = "pw-for-tests-1"


def _admin_engine(url: str):
    return create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")


def _with_database(url: str, name: str) -> str:
    base, _, _ = normalise_url(url).rpartition("/")
    return f"{base}/{name}"


def _wants_world(request) -> bool:
    return bool({"world", "any_world"} & set(request.fixturenames))


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory) -> dict[str, Path]:
    """Migrated SQLite files made once per run: plain, and with the ``World`` loaded.

    Tests copy a file instead of migrating (and hashing passwords) again.
    """
    folder = tmp_path_factory.mktemp("tpl")
    paths = {}
    for kind in ("plain", "world"):
        path = folder / f"{kind}.sqlite"
        app = bootstrap(Settings(database_url=f"sqlite:///{path}", evidence_dir=folder / "ev"))
        upgrade(app)
        if kind == "world":
            WORLD_CACHE["world"] = build_world(app)
        app.dispose()
        paths[kind] = path
    return paths


@pytest.fixture(scope="session")
def sqlite_template(sqlite_templates) -> Path:
    """The plain migrated SQLite file (no organisation)."""
    return sqlite_templates["plain"]


@pytest.fixture(scope="session")
def pg_templates():
    """Migrated PostgreSQL template databases (plain and with the world); dropped at the end."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(PG_SKIP)
    admin = _admin_engine(url)
    names = {}
    for kind in ("plain", "world"):
        name = f"sanhu_tpl_{kind}_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        app = bootstrap(Settings(database_url=_with_database(url, name)))
        upgrade(app)
        if kind == "world":
            build_world(app)
        app.dispose()
        names[kind] = name
    yield url, names
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_sqlite(template: Path, tmp_path: Path) -> Sanhu:
    path = tmp_path / "sanhu.sqlite"
    shutil.copy(template, path)
    return bootstrap(Settings(database_url=f"sqlite:///{path}", evidence_dir=tmp_path / "ev"))


@pytest.fixture
def sqlite_sanhu(request, sqlite_templates, tmp_path):
    kind = "world" if _wants_world(request) else "plain"
    app = make_sqlite(sqlite_templates[kind], tmp_path)
    yield app
    app.dispose()


@pytest.fixture
def pg_sanhu(request, tmp_path):
    if request.node.get_closest_marker("postgres") is None:  # CI's PostgreSQL run selects by it
        pytest.fail(f"{request.node.nodeid} uses PostgreSQL: mark it @pytest.mark.postgres")
    url, templates = request.getfixturevalue("pg_templates")
    template = templates["world" if _wants_world(request) else "plain"]
    name = f"sanhu_t_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    app = bootstrap(Settings(database_url=_with_database(url, name),
                             evidence_dir=tmp_path / "ev"))
    yield app
    app.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_sanhu(request):
    """The same test on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{'pg' if request.param == 'postgres' else 'sqlite'}_sanhu")


@pytest.fixture
def sanhu(sqlite_sanhu):
    """The embedded default: a migrated SQLite file."""
    return sqlite_sanhu


@dataclass
class World:
    """A small organisation with one user of each role per unit.

    city C; counties K1, K2; townships T11, T12 (in K1), T21, T22 (in K2);
    villages V111, V112 (in T11), V121, V122, V211, V212, V221, V222.
    ``actors`` maps names like ``sec_V111``, ``town_T11``, ``county_K1``,
    ``city``, ``sup_city``, ``sup_K1``, ``admin`` to ``Actor`` objects.
    """

    units: dict[str, Unit] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name]


def build_world(app: Sanhu) -> World:
    world = World()
    with app.uow() as uow:
        s = uow.session

        def person(name: str, role: Role, unit: Unit) -> None:
            u = add_user(s, username=name, display_name=name, role=role, unit=unit,
                         password=PASSWORD)
            world.actors[name] = Actor.of(u, unit)

        city = add_unit(s, code="C", name="市", level="city")
        world.units["C"] = city
        person("city", Role.CITY_STAFF, city)
        person("sup_city", Role.SUPERVISOR, city)
        person("admin", Role.ADMIN, city)
        for k in (1, 2):
            county = add_unit(s, code=f"K{k}", name=f"县{k}", level="county", parent=city)
            world.units[f"K{k}"] = county
            person(f"county_K{k}", Role.COUNTY_STAFF, county)
            person(f"sup_K{k}", Role.SUPERVISOR, county)
            for t in (1, 2):
                town = add_unit(s, code=f"T{k}{t}", name=f"乡{k}{t}", level="township",
                                parent=county)
                world.units[f"T{k}{t}"] = town
                person(f"town_T{k}{t}", Role.TOWNSHIP_STAFF, town)
                for v in (1, 2):
                    village = add_unit(s, code=f"V{k}{t}{v}", name=f"村{k}{t}{v}",
                                       level="village", parent=town)
                    world.units[f"V{k}{t}{v}"] = village
                    person(f"sec_V{k}{t}{v}", Role.VILLAGE_SECRETARY, village)
        uow.commit()
    return world


WORLD_CACHE: dict[str, World] = {}


@pytest.fixture
def world(sanhu, sqlite_templates) -> World:
    """The ``World`` organisation, already present in the ``sanhu`` database."""
    return WORLD_CACHE["world"]


@pytest.fixture
def any_world(any_sanhu, sqlite_templates) -> World:
    """The ``World`` in the ``any_sanhu`` database (ids are the same on both)."""
    return WORLD_CACHE["world"]


def pytest_collection_modifyitems(config, items):
    """Make the PostgreSQL skip reason visible even for parametrised variants."""
    if os.environ.get(PG_ENV):
        return
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.skip(reason=PG_SKIP))
