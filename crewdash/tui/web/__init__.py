"""`crewdash serve`: the dashboard in web browsers, through textual-serve (imported only by
that command: never on the dashboard's path to its first frame)."""
