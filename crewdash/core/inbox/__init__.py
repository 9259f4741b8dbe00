"""crewdash.core.inbox.inbox."""
