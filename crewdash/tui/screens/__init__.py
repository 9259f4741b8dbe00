"""crewdash.tui.screens."""
