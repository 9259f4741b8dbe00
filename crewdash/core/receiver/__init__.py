"""crewdash.core.receiver.server."""
