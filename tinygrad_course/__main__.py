"""``python -m tinygrad_course``: see cli.py."""

import sys

from tinygrad_course.cli import main

sys.exit(main())
