"""The `task2box` command line (typer): one module per command, registered by `app.py`."""
