"""``python -m tinygrad_course``: see cli.py."""

import sys

from tinygrad_course.lessons.cli import main

sys.exit(main())
