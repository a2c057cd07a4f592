"""Typed errors. Each carries a message a user can act on; the CLI prints it as one line."""


class SynthgenError(Exception):
    """Base class of every error synthgen raises on purpose."""


class DocumentError(SynthgenError):
    """A YAML document (a recipe, a train config, an experiment) or an override of it is invalid:
    the message names the file or flag, the field path and what was expected."""


class RecipeError(DocumentError):
    """The recipe is invalid."""


class SourceError(SynthgenError):
    """A source cannot be built or cannot produce samples (e.g. an empty program set)."""


class CorpusError(SynthgenError):
    """The destination or an existing corpus is not usable as asked (wrong recipe, a file, damaged)."""


class StorageError(SynthgenError):
    """Reading from or writing to a destination failed."""


class WorkerError(SynthgenError):
    """A worker process died without reporting an error (killed, out of memory, a driver crash)."""


class DataError(SynthgenError):
    """The training data cannot serve what the run needs."""


class NotAllowedError(SynthgenError):
    """A recipe asks for what only the user may allow (running a module's code, unpickling a
    file), and the command line did not allow it: the message says how to (synthgen.permissions)."""
