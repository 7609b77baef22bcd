"""Django pages about the backup agents, which ask the Twisted side."""
