"""Jobs compose the crawler, the repository, the representations and the core."""
