"""The ``sora-vfx`` command group and the one place errors become messages and exit codes."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import threading
import traceback

import click

from .. import __version__
from ..errors import EXTRAS, SoraVfxError, Terminated, redact

log = logging.getLogger("sora_vfx")


#: Where each command is defined. A module is imported only when its command runs (or on
#: ``--help``), so ``sora-vfx shots`` does not pay for torch, OpenImageIO and OCIO.
COMMAND_MODULES = {
    "shots": "sora_vfx.cli.shots",
    "render": "sora_vfx.cli.render",
    "extend": "sora_vfx.cli.extend",
    "farm": "sora_vfx.cli.farm",
    "review": "sora_vfx.cli.review",
    "verify": "sora_vfx.cli.review",
    "eval": "sora_vfx.cli.eval",
    "publish": "sora_vfx.cli.publish",
    "models": "sora_vfx.cli.models",
}


class SoraGroup(click.Group):
    """Runs a command; a ``SoraVfxError`` prints one line and exits 2 (its traceback with --debug).

    Commands listed in ``COMMAND_MODULES`` are loaded on first use: importing their module
    registers them on ``main``.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        """All command names, sorted: those registered so far plus the lazily loaded ones."""
        return sorted(set(super().list_commands(ctx)) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called ``cmd_name``, importing its module first if it is not loaded yet.

        Returns:
            The command, or None for an unknown name (click then reports "No such command").
        Raises:
            ImportError: the command's module (or one it needs) cannot be imported.
        """
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            importlib.import_module(COMMAND_MODULES[cmd_name])
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context):
        """Run the command, turning failures into a one-line message and an exit code.

        A ``SoraVfxError`` exits with its ``exit_code``, Ctrl-C with 130, SIGTERM with 143 (both
        after the command has recorded what it finished) and any other exception with 1
        (reported as a bug); click's own exits and usage errors pass through. Every message
        is redacted (``errors.redact``): no password, key or token reaches stderr.
        With --debug or ``$SORA_VFX_DEBUG`` the error's traceback is printed instead, redacted
        too, and the exit code is the same.

        Returns:
            Whatever the command returned.
        """
        previous = _raise_on_sigterm()
        try:
            return super().invoke(ctx)
        except SoraVfxError as exc:
            click.echo(_traceback(exc) if _debug(ctx) else redact(f"sora-vfx: error: {exc}"), err=True)
            ctx.exit(exc.exit_code)
        except Terminated:
            click.echo("sora-vfx: terminated (SIGTERM)", err=True)
            ctx.exit(143)
        except KeyboardInterrupt:
            click.echo("sora-vfx: interrupted", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if _debug(ctx):
                click.echo(_traceback(exc), err=True)
                ctx.exit(1)
            extra = _extra_missing(exc)
            if extra is not None:
                click.echo(f"sora-vfx: error: {ctx.invoked_subcommand or 'this command'} needs {exc.name}, which is "
                           f"not installed: pip install 'sora_vfx[{extra}]'", err=True)
                ctx.exit(2)
            click.echo(redact(
                f"sora-vfx: internal error: {type(exc).__name__}: {exc} "
                "(this is a bug; run again with --debug for the traceback)"),
                err=True,
            )
            ctx.exit(1)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def _traceback(exc: BaseException) -> str:
    """``exc``'s traceback with its causes, as Python prints it, redacted: a message or a source
    line quoted in it may hold a password."""
    return redact("".join(traceback.format_exception(exc)).rstrip("\n"))


def _extra_missing(exc: Exception) -> str | None:
    """The extra to install when ``exc`` is an optional library (``errors.EXTRAS``) not being
    installed, else None."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    return EXTRAS.get(exc.name.partition(".")[0])


def _raise_on_sigterm():
    """Turn SIGTERM into :class:`Terminated` in the main thread (elsewhere signals cannot be
    caught); returns the handler it replaced, or None."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def terminate(_signum, _frame):
        raise Terminated()

    return signal.signal(signal.SIGTERM, terminate)


def _debug(ctx: click.Context) -> bool:
    return bool(ctx.meta.get("sora_vfx.debug")) or os.environ.get("SORA_VFX_DEBUG", "").strip().lower() not in (
        "", "0", "false", "no", "off")


def set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    """Click callback of ``--debug``: when given, mark the run as debug (tracebacks instead of
    one-line errors) and log at DEBUG. Returns ``value`` unchanged."""
    if value:
        ctx.meta["sora_vfx.debug"] = True
        logging.getLogger("sora_vfx").setLevel(logging.DEBUG)
    return value


debug_option = click.option(
    "--debug", is_flag=True, expose_value=False, is_eager=True, callback=set_debug,
    help="Show tracebacks and debug logging.",
)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (tests and hosts swap it between commands)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class _RedactingFormatter(logging.Formatter):
    """Log lines without credentials (``errors.redact``), whatever a message was given."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _setup_logging() -> None:
    if not log.handlers:
        handler = _StderrHandler(sys.stderr)
        handler.setFormatter(_RedactingFormatter("sora-vfx: %(levelname)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


@click.group(cls=SoraGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sora-vfx")
@debug_option
def main() -> None:
    """Generative shots and plate extensions for the VFX pipeline.

    Reads an edit (CMX 3600 EDL, OTIO, FCP XML), renders every shot as a scene-linear
    OpenEXR sequence, and writes a conform timeline for the editor.
    """
    _setup_logging()
    # Each command starts at INFO: an earlier --debug in the same process must not leak.
    log.setLevel(logging.DEBUG if _debug(click.get_current_context()) else logging.INFO)
