import sys

from gcnas.cli import main

sys.exit(main())
