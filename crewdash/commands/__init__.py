"""Subcommands of the `crewdash` command line.

Each module here exposes `register(subparsers)`, which adds its parser(s) and sets
`handler="module:function"` as a default. `crewdash.cli` imports the handler only when that
command runs, so these modules must import nothing heavy at module level (argparse only).
"""

#: modules registered by `crewdash.cli`, in the order their commands appear in `--help`
COMMAND_MODULES: tuple[str, ...] = (
    "crewdash.commands.dashboard",
    "crewdash.commands.demo",
    "crewdash.commands.serve",
    "crewdash.commands.crews",
    "crewdash.commands.inputs",
    "crewdash.commands.kickoff",
    "crewdash.commands.status",
    "crewdash.commands.watch",
    "crewdash.commands.runs",
    "crewdash.commands.stats",
    "crewdash.commands.resume",
    "crewdash.commands.stop",
    "crewdash.commands.export",
    "crewdash.commands.batch",
    "crewdash.commands.adopt",
    "crewdash.commands.resend",
    "crewdash.commands.dismiss",
    "crewdash.commands.audit",
    "crewdash.commands.diff",
    "crewdash.commands.sim",
)
