"""The one error every data set loader raises for unusable data."""


class DatasetError(OSError):
    """A data set file or download is missing, corrupt, truncated or fails its checksum.

    The message names the file (or URL) and says what is wrong. It is an OSError,
    like the errors of ``gzip`` for a damaged archive, so ``except OSError`` also
    catches it.
    """
