"""`python -m autograder grade SUBMITTED --output OUT [--jobs N] [--seed S]`."""
from .cli import main

raise SystemExit(main())
