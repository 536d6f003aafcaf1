import sys

from mock_pokee.cli import main

sys.exit(main())
