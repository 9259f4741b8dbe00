"""crewdash.commands.support."""
