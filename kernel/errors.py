"""Errors a user can act on: the CLI prints their message as one line, with no traceback."""


class UserError(Exception):
    """Something the user must fix (configuration, arguments, a provider refusing access)."""

