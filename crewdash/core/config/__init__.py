"""crewdash.core.config.load."""
