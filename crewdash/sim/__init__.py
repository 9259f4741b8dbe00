"""crewdash.sim."""
