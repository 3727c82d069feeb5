"""Use cases. Each takes explicit arguments (the acting user, the data), flushes
but never commits: the request (or CLI command, or job) commits once."""
