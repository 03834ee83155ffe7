"""`python -m backend.cli` runs the same CLI as the `task2box` script."""

from backend.cli.app import main

main()
