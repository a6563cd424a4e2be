"""One exception hierarchy. Every message names a file:line or Kind/namespace/name.

Each error carries the process exit code the CLI and the job use for it, and whether it is
``transient`` (retry next time: network, 429, 5xx) or permanent (fix the input).
"""

from __future__ import annotations


class ExitCode:
    """Documented process exit codes (README "Exit codes")."""

    OK = 0
    DRIFT = 1  # diff / detect-mode reconcile found drift
    ERROR = 2  # permanent failure: bad config, invalid manifests, forbidden, failed objects
    TRANSIENT = 3  # transient failure: retry on the next schedule
    LOCKED = 4  # another reconcile holds the app's Lease; nothing was touched
    INTERRUPTED = 5  # stopped by SIGTERM/SIGINT after the object in flight
    VERIFY_FAILED = 6  # the commit or tag is unsigned, signed by an untrusted key, or tampered
    NOT_HEALTHY = 7  # apply --wait / reconcile with wait: applied, but not Current in time


SEVERITY = (
    ExitCode.INTERRUPTED,
    ExitCode.VERIFY_FAILED,
    ExitCode.ERROR,
    ExitCode.NOT_HEALTHY,
    ExitCode.TRANSIENT,
    ExitCode.LOCKED,
    ExitCode.DRIFT,
    ExitCode.OK,
)
"""Most severe first: the fleet's exit code is the first of these any app returned."""


class GitOpsError(Exception):
    """Base class: a failure the user can act on."""

    exit_code: int = ExitCode.ERROR
    transient: bool = False


class ConfigError(GitOpsError):
    """Invalid configuration (file, flag or environment)."""


class ToolMissingError(GitOpsError):
    """An external program (kustomize, kubectl, control-plane binaries, go) is missing."""


class ControlPlaneError(GitOpsError):
    """The local control plane could not be started."""


# --- source -------------------------------------------------------------------------------


class SourceError(GitOpsError):
    """Fetching or resolving the Git source failed."""


class UnsafeSourceError(SourceError):
    """A URL, ref or option that could run commands or escape the repository."""


class RefNotFoundError(SourceError):
    """The ref does not exist in the repository."""


class AuthError(SourceError):
    """The remote rejected our credentials."""


class SourceUnreachableError(SourceError):
    """The remote could not be reached (network, DNS, missing path)."""

    exit_code = ExitCode.TRANSIENT
    transient = True


class VerificationError(SourceError):
    """The commit (or tag) to apply has no good signature by a trusted key: nothing rendered."""

    exit_code = ExitCode.VERIFY_FAILED


# --- render -------------------------------------------------------------------------------


class RenderError(GitOpsError):
    """A manifest is invalid. ``location`` is ``file:line`` (relative to the repo path), or the
    path alone where no line applies (a missing app directory)."""

    def __init__(self, location: str, message: str) -> None:
        self.location = location
        self.detail = message
        super().__init__(f"{location}: {message}")


# --- kubernetes ---------------------------------------------------------------------------


class KubeError(GitOpsError):
    """An API call failed. ``obj`` is the ``Kind/namespace/name`` it was about, if any."""

    def __init__(self, message: str, *, obj: str = "", status: int = 0, reason: str = "") -> None:
        self.obj = obj
        self.status = status
        self.reason = reason
        super().__init__(f"{obj}: {message}" if obj else message)


class UnknownKindError(KubeError):
    """The API server serves no resource for this apiVersion/kind."""


class ForbiddenError(KubeError):
    """RBAC denied the request (403)."""


class ConflictError(KubeError):
    """Server-side apply conflict with another field manager (409)."""


class InvalidObjectError(KubeError):
    """The API server rejected the object (422), e.g. an immutable field changed."""


class NotFoundError(KubeError):
    """The object (or its namespace) does not exist (404)."""


class ReadOnlyError(GitOpsError):
    """A read-only client (diff, notebooks, reports) was asked to write."""


class TransientKubeError(KubeError):
    """Connection refused, timeout, 429 or 5xx after retries: try again later."""

    exit_code = ExitCode.TRANSIENT
    transient = True


# --- sync ---------------------------------------------------------------------------------


class PruneGuardError(GitOpsError):
    """Prune refused: empty render or more than the allowed share of the inventory."""


class PolicyError(GitOpsError):
    """The app's policy or the reconciler's self-protection refuses an object (before any
    write); the message names each object, its file:line and the rule."""


class LeaseHeldError(GitOpsError):
    """Another reconcile of this app holds the Lease."""

    exit_code = ExitCode.LOCKED


class InterruptedRun(GitOpsError):
    """The run was asked to stop (SIGTERM/SIGINT)."""

    exit_code = ExitCode.INTERRUPTED


# --- records ------------------------------------------------------------------------------


class RecordStoreError(GitOpsError):
    """The record database refused us: wrong credentials, bad DSN, failed migration."""


class RecordStoreUnavailableError(RecordStoreError):
    """The record database could not be reached: try again on the next schedule."""

    exit_code = ExitCode.TRANSIENT
    transient = True
