"""Entry point of the self-contained bundle: the ``geotagger`` command line (``gui`` opens the app).

freeze_support lets the spawned worker processes (embedding) start inside the frozen executable.
"""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from geotagger.cli.main import main

    raise SystemExit(main())
