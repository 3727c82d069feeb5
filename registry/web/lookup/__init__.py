"""Public lookup: text search (``/search``) and “Is this registered?” (``/lookup``)."""
