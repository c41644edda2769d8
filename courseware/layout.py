"""Where things live: the project root, the solution notebooks and the student release."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import SourceError

ROOT = Path(__file__).resolve().parent.parent
LIBRARY_PACKAGE = "backprop_lib"


@dataclass(frozen=True)
class Layout:
    """The three trees the pipeline reads and writes (temporary copies in `check`)."""

    root: Path = ROOT
    solutions: Path = ROOT / "solutions"
    notebooks: Path = ROOT / "notebooks"
    library: Path = ROOT / LIBRARY_PACKAGE

    def solution_notebook(self, assignment: str) -> Path:
        """``solutions/<a>/<a>.ipynb``."""
        return self.solutions / assignment / f"{assignment}.ipynb"

    def release_dir(self, assignment: str) -> Path:
        """``notebooks/<a>/``."""
        return self.notebooks / assignment

    def assignments(self, wanted: list[str] | None = None) -> list[str]:
        """The assignments to process: `wanted`, or every ``solutions/<a>/<a>.ipynb`` (sorted).

        Raises:
            ValueError: if a wanted assignment has no solution notebook.
        """
        if wanted:
            missing = [a for a in wanted if not self.solution_notebook(a).is_file()]
            if missing:
                raise SourceError(
                    f"no solution notebook for {', '.join(missing)} "
                    f"(expected {self.solutions}/<assignment>/<assignment>.ipynb)"
                )
            return list(wanted)
        return sorted(p.parent.name for p in self.solutions.glob("*/*.ipynb") if p.stem == p.parent.name)
