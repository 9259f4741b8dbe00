"""crewdash.core.runs."""
