"""A course on nbgrader's real exchange in a temporary root, for the round trip and browser tests.

nbgrader's exchange classes (the ones `nbgrader release_assignment`, `fetch_assignment` and
`submit` run) are driven in-process with the configuration those commands would read, which
saves nbgrader's start-up (about 5 s a command on a busy machine). The instructor releases from
the project's own `notebooks/`, as the project's nbgrader_config.py does.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from courseware.layout import Layout

LAYOUT = Layout()
COURSE = "backprop101"


@dataclass
class Exchange:
    """One course on an nbgrader exchange rooted at `root`, released from the project."""

    root: Path
    course: str
    workdir: Path

    def config(self, **extra):
        from traitlets.config import Config

        config = Config()
        config.Exchange.root = str(self.root)
        config.CourseDirectory.course_id = self.course
        config.CourseDirectory.root = str(LAYOUT.root)
        config.CourseDirectory.release_directory = LAYOUT.notebooks.name
        config.CourseDirectory.db_url = f"sqlite:///{self.workdir / 'gradebook.db'}"
        for section, values in extra.items():
            for key, value in values.items():
                setattr(config[section], key, value)
        return config

    def _run(self, exchange_class, config, assignment: str) -> None:
        from nbgrader.auth import Authenticator
        from nbgrader.coursedir import CourseDirectory

        config.CourseDirectory.assignment_id = assignment
        coursedir = CourseDirectory(config=config)
        exchange_class(coursedir=coursedir, authenticator=Authenticator(config=config), config=config).start()

    def release(self, assignment: str) -> None:
        """`nbgrader release_assignment <a> --course <course>` from the project root."""
        from nbgrader.exchange.default import ExchangeReleaseAssignment

        self._run(ExchangeReleaseAssignment, self.config(), assignment)

    def student_home(self, student: str) -> Path:
        home = self.workdir / "home" / student
        home.mkdir(parents=True, exist_ok=True)
        return home

    def fetch(self, student: str, assignment: str) -> Path:
        """`nbgrader fetch_assignment <a> --course <course>` run in the student's (empty) home."""
        from nbgrader.exchange.default import ExchangeFetchAssignment

        home = self.student_home(student)
        config = self.config(Exchange={"assignment_dir": str(home), "cache": str(home / ".nbgrader_cache")})
        self._run(ExchangeFetchAssignment, config, assignment)
        return home / assignment

    def submit(self, student: str, assignment: str) -> None:
        """`nbgrader submit <a> --course <course> --student <student>` from the student's home."""
        from nbgrader.exchange.default import ExchangeSubmit

        home = self.student_home(student)
        config = self.config(Exchange={"assignment_dir": str(home), "cache": str(home / ".nbgrader_cache")},
                             CourseDirectory={"student_id": student})
        self._run(ExchangeSubmit, config, assignment)

    @property
    def inbound(self) -> Path:
        return self.root / self.course / "inbound"


@pytest.fixture(scope="session")
def exchange(tmp_path_factory) -> Exchange:
    """A fresh exchange with every assignment of the project released."""
    workdir = tmp_path_factory.mktemp("nbgrader-course")
    root = workdir / "exchange"
    root.mkdir()
    os.chmod(root, 0o777)  # nbgrader's exchange root is writable by everyone
    made = Exchange(root, COURSE, workdir)
    for assignment in LAYOUT.assignments():
        made.release(assignment)
    return made
