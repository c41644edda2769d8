"""Makes `tests/` importable, so every test, however deep its folder, imports the shared
fixtures as `fixtures.*` (tests/fixtures/). Test folders mirror the code: `autograder/<room>/`,
`backprop_lib/`, `courseware/`, `tools/`."""
import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
