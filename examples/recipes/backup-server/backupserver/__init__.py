"""A backup server beside a Django site: the Twisted side of the recipe."""
