"""The `task2box` command line (typer)."""
