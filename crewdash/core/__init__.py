"""crewdash.core."""
