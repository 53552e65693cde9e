"""`collect github`: an org's token evidence through githubkit, as a `github-inventory/v1` file.

Authentication is a GitHub App (app id + private key; the org's installation found or given): the
fine-grained PAT endpoints answer only GitHub App tokens. A fine-grained PAT may be given instead
(`--token-env`); the endpoints it cannot call are then recorded as skipped, never as empty.
"""

from __future__ import annotations

from datetime import timedelta

from githubkit import AppAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.exception import GitHubException, RateLimitExceeded, RequestError, RequestFailed
from githubkit.retry import RetryOption

from auditor.collectors import common
from auditor.collectors.common import FAILED, FORBIDDEN, CollectionFailed, EndpointLog, Progress, RetryBudget, one_line
from auditor.errors import InputError

FORMAT = "github-inventory/v1"
API_VERSION = "2022-11-28"
# The GitHub App permission each endpoint needs (docs.github.com, "Permissions required for GitHub Apps").
PERMISSIONS = {
    "personal_access_tokens": 'organization permission "Personal access tokens" (read)',
    "personal_access_token_repositories": 'organization permission "Personal access tokens" (read)',
    "personal_access_token_requests": 'organization permission "Personal access token requests" (read)',
    "personal_access_token_request_repositories": 'organization permission "Personal access token requests" (read)',
    "credential_authorizations": 'organization permission "Administration" (read)',
    "members": 'organization permission "Members" (read)',
    "admins": 'organization permission "Members" (read)',
    "outside_collaborators": 'organization permission "Members" (read)',
    "installations": 'organization permission "Administration" (read)',
}
APP_ONLY = ("personal_access_tokens", "personal_access_token_requests")
NO_SAML = (
    "the org does not use SAML single sign-on (or is not on GitHub Enterprise Cloud): classic personal "
    "access tokens and OAuth tokens that reach it are invisible to this audit"
)
NO_POLICY_API = (
    "GitHub's REST API does not expose the org's personal access token policy; copy it from "
    "Settings → Personal access tokens into org_settings (see docs/collect.md)"
)


def _delay(seconds: float) -> timedelta:
    # githubkit sleeps 60 s for a zero (falsy) delay: `Retry-After: 0` must still mean "now"
    return timedelta(seconds=max(seconds, 0.001))


class _Retry:
    """githubkit retry decision: rate limits (primary and secondary) within the budget, 5xx a few times."""

    def __init__(self, budget: RetryBudget):
        self.budget = budget

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        if isinstance(exc, RateLimitExceeded):
            wait = exc.retry_after.total_seconds()
            if self.budget.allows(retry_count, wait):
                self.budget.announce(f"{exc.request.method} {exc.request.url.path}", retry_count, wait)
                return RetryOption(True, _delay(wait))
            return RetryOption(False)
        if (
            isinstance(exc, RequestFailed)
            and exc.response.status_code >= 500
            and retry_count < min(3, self.budget.max_retries)
        ):
            self.budget.progress(f"server error {exc.response.status_code} on {exc.request.url.path}; retrying")
            return RetryOption(True, _delay(min(self.budget.max_wait, retry_count + 1)))
        return RetryOption(False)


def _message(exc: RequestFailed) -> str:
    try:
        body = exc.response.json()
        text = body.get("message") if isinstance(body, dict) else None
    except Exception:  # noqa: BLE001 - a non-JSON error page
        text = None
    return f"HTTP {exc.response.status_code}: {text or exc.response.raw_response.reason_phrase}"


def _needs(exc: RequestFailed, endpoint: str) -> str | None:
    """GitHub names the permission it wanted in X-Accepted-GitHub-Permissions; else our table."""
    accepted = exc.response.headers.get("x-accepted-github-permissions")
    documented = PERMISSIONS.get(endpoint)
    if accepted:
        return f"{documented} (GitHub asked for: {one_line(accepted, 120)})" if documented else one_line(accepted)
    return documented


def _token_refused(exc: GitHubException) -> CollectionFailed | None:
    """githubkit mints the installation token inside the request; its refusal arrives wrapped."""
    inner = getattr(exc, "exc", None)
    if isinstance(exc, RequestError) and isinstance(inner, RequestFailed):
        return CollectionFailed(
            f"github: cannot obtain an installation access token ({_message(inner)}): check "
            "that the App is installed, not suspended, on the organization"
        )
    return None


class GitHubCollector:
    def __init__(self, org: str, api_url: str, progress: Progress, budget: RetryBudget, timeout: float = 30.0):
        self.org = org
        self.api_url = api_url
        self.progress = progress
        self.budget = budget
        self.timeout = timeout
        self.log = EndpointLog()
        self._client: GitHub | None = None
        self.auth_mode = ""

    @property
    def client(self) -> GitHub:
        if self._client is None:
            raise RuntimeError("GitHubCollector: login_app or login_token first")
        return self._client

    def _github(self, auth) -> GitHub:
        return GitHub(
            auth,
            base_url=self.api_url,
            auto_retry=_Retry(self.budget),
            http_cache=False,
            timeout=self.timeout,
            user_agent="token-auditor-collector",
        )

    # -- authentication ------------------------------------------------------------------------------
    def login_app(self, app_id: str, private_key: str, installation_id: int | None) -> None:
        app = self._github(AppAuthStrategy(app_id, private_key))
        try:
            if installation_id is None:
                self.progress(f"finding the GitHub App's installation on {self.org}")
                installation = app.rest.apps.get_org_installation(self.org).json()
            else:
                installation = app.rest.apps.get_installation(installation_id).json()
        except RequestFailed as exc:
            status = exc.response.status_code
            if status == 404:
                raise CollectionFailed(
                    f"github: the GitHub App {app_id} is not installed on {self.org} "
                    f"(or --installation-id is wrong): {_message(exc)}"
                ) from None
            raise CollectionFailed(
                f"github: GitHub App authentication failed ({_message(exc)}): check --app-id "
                "and --private-key (the app's private key, PEM)"
            ) from None
        except (RequestError, GitHubException) as exc:
            raise CollectionFailed(f"github: cannot reach {self.api_url}: {one_line(exc)}") from None
        owner = installation.get("account")
        account = owner.get("login") if owner else None
        if isinstance(account, str) and account and account.lower() != self.org.lower():
            raise CollectionFailed(
                f"github: installation {installation.get('id')} belongs to {account}, not {self.org}"
            )
        self._client = app.with_auth(app.auth.as_installation(int(installation["id"])))
        self.auth_mode = f"GitHub App {app_id}, installation {installation['id']}"

    def login_token(self, token: str) -> None:
        self._client = self._github(TokenAuthStrategy(token))
        self.auth_mode = "fine-grained personal access token"

    # -- one endpoint --------------------------------------------------------------------------------
    def _pages(self, endpoint: str, request, map_func=None, target: str | None = None, **kwargs) -> list | None:
        """Every item of a paginated endpoint, following Link rel=next; None when the call failed."""
        items = []
        try:
            for item in self.client.rest.paginate(request, map_func=map_func or (lambda r: r.json()), **kwargs):
                items.append(item)
        except RequestFailed as exc:
            status = exc.response.status_code
            if status == 401:
                raise CollectionFailed(
                    f"github: {endpoint}: credentials refused ({_message(exc)}); the "
                    "installation token or personal access token is not valid"
                ) from None
            outcome = FORBIDDEN if status == 403 and not isinstance(exc, RateLimitExceeded) else FAILED
            message = _message(exc) + (" (rate limit: retries exhausted)" if isinstance(exc, RateLimitExceeded) else "")
            self.log.problem(endpoint, outcome, message, _needs(exc, endpoint), target, status)
            self.progress(f"{endpoint}{' ' + target if target else ''}: {outcome}: {one_line(message)}")
            return None
        except (RequestError, GitHubException) as exc:
            if refused := _token_refused(exc):
                raise refused from None
            self.log.problem(endpoint, FAILED, f"{type(exc).__name__}: {exc}", None, target)
            self.progress(f"{endpoint}: failed: {one_line(exc)}")
            return None
        self.log.ok(endpoint, len(items))
        return items

    def _credential_authorizations(self, org: str, per_page: int = 100, headers=None):
        # GHEC-only endpoint, absent from githubkit's generated (api.github.com) client: its generic request.
        return self.client.request(
            "GET",
            f"/orgs/{org}/credential-authorizations",
            params={"per_page": per_page},
            headers={"X-GitHub-Api-Version": API_VERSION, **(headers or {})},
        )

    # -- the whole org -------------------------------------------------------------------------------
    def collect(self, with_outside_collaborators: bool = True) -> dict:
        org, rest = self.org, self.client.rest
        document: dict = {"format": FORMAT, "org": org, "collected_at": None}
        app = self.auth_mode.startswith("GitHub App")

        for key, request, sub, sub_request, id_key in (
            (
                "personal_access_tokens",
                rest.orgs.list_pat_grants,
                "personal_access_token_repositories",
                rest.orgs.list_pat_grant_repositories,
                "pat_id",
            ),
            (
                "personal_access_token_requests",
                rest.orgs.list_pat_grant_requests,
                "personal_access_token_request_repositories",
                rest.orgs.list_pat_grant_request_repositories,
                "pat_request_id",
            ),
        ):
            if not app:
                self.log.skipped(key, "only GitHub Apps can call this endpoint; collect with --app-id")
                continue
            self.progress(f"{key}: listing")
            items = self._pages(key, request, org=org, per_page=100)
            if items is None:
                continue
            document[key] = items
            subset = [i for i in items if i.get("repository_selection") == "subset"]
            for index, item in enumerate(subset, 1):
                self.progress(f"{sub}: {index}/{len(subset)}")
                repos = self._pages(
                    sub, sub_request, target=str(item.get("id")), org=org, per_page=100, **{id_key: item["id"]}
                )
                if repos is not None:
                    item["repositories"] = [
                        {"id": r.get("id"), "full_name": r.get("full_name"), "private": r.get("private")} for r in repos
                    ]
            if not subset:
                self.log.ok(sub, 0)

        self.progress("credential_authorizations: listing")
        try:
            credentials = []
            for item in rest.paginate(self._credential_authorizations, map_func=lambda r: r.json(), org=org):
                credentials.append(item)
            document["credential_authorizations"] = credentials
            self.log.ok("credential_authorizations", len(credentials))
        except RequestFailed as exc:
            status = exc.response.status_code
            if status in (404, 422) and not isinstance(exc, RateLimitExceeded):
                self.log.not_applicable("credential_authorizations", f"{NO_SAML} ({_message(exc)})")
                self.progress("credential_authorizations: org without SAML SSO; classic tokens not visible")
            elif status == 401:
                raise CollectionFailed(
                    f"github: credential_authorizations: credentials refused ({_message(exc)})"
                ) from None
            else:
                outcome = FORBIDDEN if status == 403 and not isinstance(exc, RateLimitExceeded) else FAILED
                self.log.problem(
                    "credential_authorizations",
                    outcome,
                    _message(exc),
                    _needs(exc, "credential_authorizations"),
                    None,
                    status,
                )
        except (RequestError, GitHubException) as exc:
            if refused := _token_refused(exc):
                raise refused from None
            self.log.problem("credential_authorizations", FAILED, f"{type(exc).__name__}: {exc}")

        for key, kwargs in (("members", {}), ("admins", {"role": "admin"})):
            self.progress(f"{key}: listing")
            items = self._pages(key, rest.orgs.list_members, org=org, per_page=100, **kwargs)
            if items is not None:
                document[key] = items
        if with_outside_collaborators:
            self.progress("outside_collaborators: listing")
            items = self._pages("outside_collaborators", rest.orgs.list_outside_collaborators, org=org, per_page=100)
            if items is not None:
                document["outside_collaborators"] = items
        self.progress("installations: listing")
        items = self._pages(
            "installations",
            rest.orgs.list_app_installations,
            map_func=lambda r: r.json().get("installations") or [],
            org=org,
            per_page=100,
        )
        if items is not None:
            document["installations"] = items
        self.log.note(NO_POLICY_API)
        return document


def read_private_key(path: str) -> str:
    text = common.read_text(path, f"--private-key {path}", not_text="not a PEM text file")
    if "PRIVATE KEY-----" not in text:
        raise InputError(f"--private-key {path}: not a PEM private key (the GitHub App's .pem file)")
    return text
