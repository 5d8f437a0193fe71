"""Errors a user can act on: the CLI prints their message as one line, with no traceback."""


class UserError(Exception):
    """Something the user must fix (configuration, arguments, a provider refusing access)."""


class NotBuiltYet(UserError):
    """A command whose work belongs to an issue not done yet."""

    def __init__(self, command: str, issue: int) -> None:
        super().__init__(f"crmsync {command}: not built yet (issue #{issue})")
