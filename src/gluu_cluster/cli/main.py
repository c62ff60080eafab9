"""Entry point: the command groups, and the one place errors become exit codes."""

from __future__ import annotations

import sys

import click

from .. import __version__
from ..errors import GluuClusterError, PlanError
from .balancer import drain, undrain
from .certs import certs
from .check import check
from .common import setup_logging
from .converge import apply, plan
from .inventory_cmds import validate
from .lab import lab
from .ldap import ldap
from .output import print_error
from .serve import serve
from .status import status
from .sync import sync

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gluu-cluster")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """Turn Gluu Server CE nodes into one replicated cluster and keep it healthy.

    Exit codes: 0 ok, 1 problems found or operation failed, 2 usage or inventory error.
    """
    setup_logging(verbose)


cli.add_command(validate)
cli.add_command(check)
cli.add_command(plan)
cli.add_command(apply)
cli.add_command(lab)
cli.add_command(ldap)
cli.add_command(certs)
cli.add_command(sync)
cli.add_command(status)
cli.add_command(serve)
cli.add_command(drain)
cli.add_command(undrain)


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="gluu-cluster", standalone_mode=False)
    except click.exceptions.Abort:
        print_error("aborted")
        return EXIT_PROBLEMS
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except PlanError as exc:
        for failure in exc.failures:  # one line per node that failed
            print_error(str(failure))
        return exc.exit_code
    except GluuClusterError as exc:
        print_error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_PROBLEMS
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
