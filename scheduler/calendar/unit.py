"""The unit of work: where each of the dispatcher's statements runs, and what commits together.

One object per engine, with one state per thread (a worker publishes from several threads):

* :meth:`UnitOfWork.transaction`: a transaction; nested calls join the open one, so an outcome
  and its ``Attempt`` row commit together (one commit per step: the publish path is
  commit-bound);
* :meth:`UnitOfWork.statement`: for one self-contained statement: inside the open transaction
  if there is one, else on the connection held for this publish, else on a fresh autocommit
  connection (the statement is its own transaction);
* :meth:`UnitOfWork.holding`: hold one autocommit connection for a whole publish where each
  step is one statement (:attr:`Dialect.single_statement_steps`): a pool checkout costs a
  pre-ping round trip, so a publish pays it once instead of once per step;
* :meth:`UnitOfWork.reading`: a connection for reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine

from scheduler.calendar.dialect import Dialect, dialect_for


class UnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect: Dialect = dialect_for(engine)
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        conn: Connection | None = getattr(self._local, "transaction", None)
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as conn:
            self._local.transaction = conn
            try:
                yield conn
            finally:
                self._local.transaction = None

    @contextmanager
    def statement(self) -> Iterator[Connection]:
        conn: Connection | None = getattr(self._local, "transaction", None) or getattr(
            self._local, "held", None
        )
        if conn is not None:
            yield conn
            return
        with self._autocommit.connect() as conn:
            yield conn

    @contextmanager
    def holding(self) -> Iterator[None]:
        if (
            not self.dialect.single_statement_steps
            or getattr(self._local, "held", None) is not None
        ):
            yield
            return
        with self._autocommit.connect() as conn:
            self._local.held = conn
            try:
                yield
            finally:
                self._local.held = None

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn
