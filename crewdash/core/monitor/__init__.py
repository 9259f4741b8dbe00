"""crewdash.core.monitor.poller."""
