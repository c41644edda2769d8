"""The lecture tests import ``lectures`` (a package at the project root) and ``backprop_lib``."""
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
