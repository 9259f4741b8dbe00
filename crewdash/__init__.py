"""crewdash: the operator's console for CrewAI AOP deployments."""

__version__ = "0.1.0"
