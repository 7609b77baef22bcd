"""The TLS recipe (examples/recipes/tls) started for a test: its throwaway
CA, and ``twistd django-tls`` on an ``ssl:`` endpoint on 127.0.0.1."""

import subprocess
import sys

from .recipes import RECIPES, start_recipe

THROWAWAY_CA = RECIPES / "tls" / "throwaway_ca.py"


def throwaway_ca(directory, *names, capture_output=False):
    """Run the recipe's throwaway_ca.py: a root, an intermediate and a server
    certificate (for ``names``, if given) in ``directory``, which it returns."""
    subprocess.run(
        [sys.executable, str(THROWAWAY_CA), str(directory)] + list(names),
        check=True,
        capture_output=capture_output,
        timeout=60,
    )
    return directory


def tls_listen(certs, chain=True):
    """The ``ssl:`` endpoint for the key and certificate in ``certs``, with
    ``chain.pem`` as the extra chain if ``chain``."""
    endpoint = (
        "ssl:{port}:interface=127.0.0.1"
        f":privateKey={certs / 'key.pem'}:certKey={certs / 'cert.pem'}"
    )
    return endpoint + (f":extraCertChain={certs / 'chain.pem'}" if chain else "")


def start_tls(twistd, certs, *extra, chain=True):
    """``twistd django-tls`` on the TLS recipe, listening on ``tls_listen``,
    with the ``extra`` options."""
    return start_recipe(
        twistd,
        "tls",
        [
            "django-tls",
            "--settings=backupsite.settings",
            f"--listen={tls_listen(certs, chain)}",
            *extra,
        ],
    )
