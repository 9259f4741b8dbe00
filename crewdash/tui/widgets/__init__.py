"""crewdash.tui.widgets."""
