"""The backup catalogue: a Django project served by twistd in the tutorial."""
