"""crewdash.aop."""
