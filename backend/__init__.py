"""Task2Box Atlas backend: Hub crawling, the SQLite cache, the REST API and background jobs."""
