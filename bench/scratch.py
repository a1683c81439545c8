"""Scratch databases the benchmark creates, clones and drops; nothing else is touched.

SQLite: files in a private temporary directory. PostgreSQL: databases named
``kechuang_bench_<pid>_*``, created and dropped through the server's
``postgres`` maintenance database, never through the database named in the URL
(``test`` on CI machines, which other processes use).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
MAINTENANCE_DB = "postgres"


def pg_server_url() -> str:
    """The PostgreSQL server to use (only its address and user are taken from it)."""
    return os.environ.get("KECHUANG_BENCH_PG_URL", DEFAULT_PG_URL)


def pg_conninfo(url: str, dbname: str) -> str:
    """The same server and user as ``url``, but connected to ``dbname``."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params: dict[str, Any] = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


def pg_url(url: str, dbname: str) -> str:
    """A DATABASE_URL for ``dbname`` on the server of ``url`` (for dj-database-url)."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    user = params.get("user", "postgres")
    password = f":{params['password']}" if params.get("password") else ""
    host = params.get("host", "127.0.0.1")
    port = params.get("port", "5432")
    return f"postgresql://{user}{password}@{host}:{port}/{dbname}"


def pg_unreachable_reason(url: str) -> str | None:
    """None when the server answers, else one line saying why not."""
    try:
        import psycopg
    except ImportError as error:  # pragma: no cover - psycopg is a project dependency
        return f"psycopg not importable ({error})"
    try:
        with psycopg.connect(pg_conninfo(url, MAINTENANCE_DB), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return None


class SqliteScratch:
    """A migrated template file and cheap fresh copies of it."""

    engine = "sqlite"

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="kechuang-bench-"))
        self.template = str(self.directory / "template.sqlite3")
        self._count = 0

    def url(self, name: str) -> str:
        return f"sqlite:///{name}"

    def clone(self) -> str:
        """A fresh copy of the migrated template (the template's connections are closed)."""
        self._count += 1
        target = str(self.directory / f"run{self._count}.sqlite3")
        source, copy = sqlite3.connect(self.template), sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            source.close()
            copy.close()
        return target

    def drop(self, name: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)

    def server_version(self) -> str:
        return sqlite3.sqlite_version

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


class PostgresScratch:
    """``kechuang_bench_<pid>_template`` (migrated) and fresh clones made from it."""

    engine = "postgresql"

    def __init__(self, server_url: str) -> None:
        import psycopg

        self.server_url = server_url
        self.prefix = f"kechuang_bench_{os.getpid()}"
        self.template = f"{self.prefix}_template"
        self._count = 0
        self._created: list[str] = []
        self._admin = psycopg.connect(
            pg_conninfo(server_url, MAINTENANCE_DB), autocommit=True, connect_timeout=5
        )
        self._create(self.template, template=None)

    def _create(self, name: str, *, template: str | None) -> None:
        from psycopg import sql

        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        self._admin.execute(statement)
        self._created.append(name)

    def url(self, name: str) -> str:
        return pg_url(self.server_url, name)

    def conninfo(self, name: str) -> str:
        return pg_conninfo(self.server_url, name)

    def clone(self) -> str:
        """A fresh database copied from the migrated template (which must have no sessions)."""
        self._count += 1
        name = f"{self.prefix}_run{self._count}"
        self._create(name, template=self.template)
        return name

    def drop(self, name: str) -> None:
        from psycopg import sql

        if not name.startswith(self.prefix):  # never anything we did not create
            raise ValueError(f"refusing to drop {name}")
        self._admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if name in self._created:
            self._created.remove(name)

    def server_version(self) -> str:
        return str(self._admin.execute("SHOW server_version").fetchone()[0])

    def close(self) -> None:
        for name in list(reversed(self._created)):
            self.drop(name)
        self._admin.close()
