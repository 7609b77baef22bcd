"""Read the ``[django]`` section of an INI config file."""

import configparser

from twisted.python import usage


def read(path, known):
    """Return the section's values as strings; refuse a key not in ``known``."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except OSError as error:
        raise usage.UsageError(
            f"--config: cannot read {path!r}: {error.strerror}."
        ) from None
    except UnicodeDecodeError as error:
        raise usage.UsageError(
            f"--config: {path!r} is not UTF-8 text (byte {error.start})."
        ) from None
    except configparser.Error as error:
        first_line = str(error).splitlines()[0]
        raise usage.UsageError(
            f"--config: {path!r} is not valid: {first_line}"
        ) from None
    if parser.sections() != ["django"]:
        raise usage.UsageError(
            f"--config: {path!r} must have one section, [django];"
            f" it has {parser.sections() or 'none'}."
        )
    values = dict(parser["django"])
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise usage.UsageError(
            f"--config: {path!r} has unknown keys: {', '.join(unknown)}."
            f" Known keys: {', '.join(known)}."
        )
    return values
