"""The database: engine and sessions (`engine`), tables (`tables`), migrations and the one
module that builds queries and commits (`repository`)."""
