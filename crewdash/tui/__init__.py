"""crewdash.tui."""
