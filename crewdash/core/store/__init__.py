"""The run store (`crewdash.core.store.database.RunStore`) and its atomic file writes."""
