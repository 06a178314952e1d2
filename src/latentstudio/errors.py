"""The one exception tree of latentstudio.

Every error a user can cause derives from :class:`LatentStudioError`; the CLI maps it
to one line on stderr and exit code 2. Messages name the input or parameter and its value.
"""


class LatentStudioError(Exception):
    """Root of every error latentstudio raises on purpose."""


class ParameterError(LatentStudioError, ValueError):
    """Bad input: a parameter value, or a file that is empty, corrupt, silent or of the wrong kind."""


class AssetMissingError(LatentStudioError, FileNotFoundError):
    """An offline asset is not installed; the message names the package that provides it."""


class ModelError(LatentStudioError, RuntimeError):
    """A model, checkpoint or weight file cannot be built or loaded."""


__all__ = ["LatentStudioError", "ParameterError", "AssetMissingError", "ModelError"]
