"""crewdash.core.store.database."""
