"""`collect gitlab`: personal, group and project access tokens through python-gitlab, every page.

An administrator's token reads the instance-wide lists (every user's personal access tokens, every
user with admin/bot/state flags) and, unless groups are given, every group and project. Anyone else
walks the groups given (their subgroups and projects). Group and project access tokens are personal
access tokens of bot users, so an admin's /personal_access_tokens lists them too: each is kept once,
under its group or project.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import gitlab
import requests
from gitlab.exceptions import GitlabAuthenticationError, GitlabError

from auditor.collectors.common import FAILED, FORBIDDEN, CollectionFailed, EndpointLog, Progress, RetryBudget, one_line
from auditor.errors import InputError

FORMAT = "gitlab-inventory/v1"
# What each call needs (docs.gitlab.com: personal_access_tokens, group_access_tokens, project_access_tokens, users).
PERMISSIONS = {
    "user": "a valid token with scope read_api",
    "personal_access_tokens": "scope read_api (an administrator sees every user's tokens, others only their own)",
    "group_access_tokens": "scope read_api and the Owner role in the group",
    "project_access_tokens": "scope read_api and at least the Maintainer role in the project",
    "users": "scope read_api (admin/bot flags need an administrator)",
    "groups": "scope read_api and access to the group",
    "projects": "scope read_api",
    "group_members": "scope read_api and access to the group",
}
USER_FIELDS = (
    "id",
    "username",
    "name",
    "state",
    "bot",
    "is_admin",
    "locked",
    "created_at",
    "last_activity_on",
    "access_level",
)


class RateLimitTooLong(requests.RequestException):
    """A Retry-After beyond --max-wait: the endpoint fails instead of stalling the run."""


def _status(exc: GitlabError) -> int | None:
    return getattr(exc, "response_code", None)


def _message(exc: GitlabError) -> str:
    code = _status(exc)
    text = getattr(exc, "error_message", None) or str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"HTTP {code}: {text}" if code else str(text)


class GitLabCollector:
    def __init__(self, url: str, token: str, progress: Progress, budget: RetryBudget, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.instance = urlsplit(self.url).netloc or self.url
        self.progress = progress
        self.budget = budget
        self.log = EndpointLog()
        self.auth_mode = ""
        session = requests.Session()
        session.hooks["response"].append(self._on_response)
        self.gl = gitlab.Gitlab(
            self.url,
            private_token=token,
            timeout=timeout,
            per_page=100,
            retry_transient_errors=True,
            keep_base_url=True,
            session=session,
            user_agent="token-auditor-collector",
        )

    def _on_response(self, response: requests.Response, *args, **kwargs):
        """python-gitlab waits out a 429 itself (Retry-After); we say so, and refuse waits beyond --max-wait."""
        if response.status_code == 429:
            try:
                wait = float(response.headers.get("Retry-After", "0"))
            except ValueError:
                wait = 0.0
            if wait > self.budget.max_wait:
                raise RateLimitTooLong(f"rate limited: Retry-After {wait:g} s exceeds --max-wait")
            self.progress(f"rate limited on {urlsplit(response.url).path}; waiting {wait:g} s")
        return response

    def _list(self, endpoint: str, manager, target: str | None = None, **kwargs) -> list[dict] | None:
        """Every item of a list endpoint (python-gitlab follows the Link rel=next pages)."""
        try:
            items = [
                obj.attributes for obj in manager.list(iterator=True, max_retries=self.budget.max_retries, **kwargs)
            ]
        except GitlabAuthenticationError as exc:
            raise CollectionFailed(
                f"gitlab: {endpoint}: token refused ({_message(exc)}); it needs {PERMISSIONS['user']}"
            ) from None
        except GitlabError as exc:
            code = _status(exc)
            outcome = FORBIDDEN if code == 403 else FAILED
            self.log.problem(endpoint, outcome, _message(exc), PERMISSIONS.get(endpoint), target, code)
            self.progress(f"{endpoint}{' ' + target if target else ''}: {outcome}: {one_line(_message(exc))}")
            return None
        except requests.RequestException as exc:
            self.log.problem(endpoint, FAILED, f"{type(exc).__name__}: {exc}", None, target)
            self.progress(f"{endpoint}{' ' + target if target else ''}: failed: {one_line(exc)}")
            return None
        self.log.ok(endpoint, len(items))
        return items

    def _login(self) -> bool:
        try:
            self.gl.auth()
        except GitlabAuthenticationError as exc:
            raise CollectionFailed(
                f"gitlab: token refused by {self.url} ({_message(exc)}); it needs {PERMISSIONS['user']}"
            ) from None
        except GitlabError as exc:
            raise CollectionFailed(f"gitlab: GET /user failed on {self.url}: {_message(exc)}") from None
        except requests.RequestException as exc:
            raise CollectionFailed(f"gitlab: cannot reach {self.url}: {one_line(exc)}") from None
        if self.gl.user is None:  # auth() sets it from GET /user
            raise CollectionFailed(f"gitlab: GET /user on {self.url} named no user")
        user = self.gl.user.attributes
        admin = bool(user.get("is_admin"))
        self.auth_mode = f"{'administrator' if admin else 'user'} {user.get('username')}"
        return admin

    def _walk_group(self, path: str, groups: dict, projects: dict, users: dict) -> None:
        try:
            group = self.gl.groups.get(path, max_retries=self.budget.max_retries)
        except GitlabAuthenticationError as exc:
            raise CollectionFailed(f"gitlab: token refused ({_message(exc)})") from None
        except GitlabError as exc:
            code = _status(exc)
            self.log.problem(
                "groups", FORBIDDEN if code == 403 else FAILED, _message(exc), PERMISSIONS["groups"], path, code
            )
            self.progress(f"group {path}: {one_line(_message(exc))}")
            return
        self.log.ok("groups", 1)
        groups[group.attributes["full_path"]] = group.id
        for sub in self._list("groups", group.descendant_groups, target=path) or []:
            groups[sub["full_path"]] = sub["id"]
        for project in self._list("projects", group.projects, target=path, include_subgroups=True, simple=True) or []:
            projects[project["path_with_namespace"]] = project["id"]
        for member in self._list("group_members", group.members_all, target=path) or []:
            users.setdefault(member["id"], {k: member[k] for k in USER_FIELDS if k in member})

    def collect(self, group_paths: list[str]) -> dict:
        self.progress(f"signing in to {self.url}")
        admin = self._login()
        if not admin and not group_paths:
            raise InputError(
                "collect gitlab: the token is not an administrator's: name the groups to walk "
                "with --group PATH (repeatable)"
            )
        gl = self.gl
        document: dict = {"format": FORMAT, "instance": self.instance, "collected_at": None}
        users: dict[int, dict] = {}
        groups: dict[str, int] = {}
        projects: dict[str, int] = {}

        self.progress("personal_access_tokens: listing" + (" (instance-wide)" if admin else " (own tokens)"))
        personal = self._list("personal_access_tokens", gl.personal_access_tokens)
        if personal is not None and not admin:
            self.log.endpoints["personal_access_tokens"]["note"] = (
                "not an administrator: only this token's owner's personal access tokens are visible"
            )
        if admin:
            self.progress("users: listing (instance-wide)")
            for user in self._list("users", gl.users) or []:
                users[user["id"]] = {k: user[k] for k in USER_FIELDS if k in user}
        if group_paths:
            for path in group_paths:
                self.progress(f"group {path}: walking subgroups, projects and members")
                self._walk_group(path, groups, projects, users)
        else:
            self.progress("groups and projects: listing (instance-wide)")
            for group in self._list("groups", gl.groups, all_available=True) or []:
                groups[group["full_path"]] = group["id"]
            for project in self._list("projects", gl.projects, simple=True) or []:
                projects[project["path_with_namespace"]] = project["id"]

        group_tokens: dict[str, list] = {}
        for index, (path, group_id) in enumerate(sorted(groups.items()), 1):
            self.progress(f"group_access_tokens: {index}/{len(groups)} {path}")
            items = self._list("group_access_tokens", gl.groups.get(group_id, lazy=True).access_tokens, target=path)
            if items:
                group_tokens[path] = items
        if not groups:
            self.log.ok("group_access_tokens", 0)
        project_tokens: dict[str, list] = {}
        for index, (path, project_id) in enumerate(sorted(projects.items()), 1):
            self.progress(f"project_access_tokens: {index}/{len(projects)} {path}")
            items = self._list(
                "project_access_tokens", gl.projects.get(project_id, lazy=True).access_tokens, target=path
            )
            if items:
                project_tokens[path] = items
        if not projects:
            self.log.ok("project_access_tokens", 0)

        if personal is not None:
            bot_ids = {t["id"] for lists in (group_tokens, project_tokens) for items in lists.values() for t in items}
            kept = [t for t in personal if t.get("id") not in bot_ids]
            if len(kept) != len(personal):
                entry = self.log.endpoints["personal_access_tokens"]
                note = (
                    f"{len(personal) - len(kept)} group/project access token(s) also listed here are kept "
                    "once, under their group or project"
                )
                entry["note"] = f"{entry['note']}; {note}" if entry.get("note") else note
            document["personal_access_tokens"] = kept
        document["group_access_tokens"] = group_tokens
        document["project_access_tokens"] = project_tokens
        if not admin:
            entry = self.log.endpoints.setdefault("users", {"status": "ok", "items": 0})
            entry["items"] = len(users)
            entry["note"] = "not an administrator: users are the walked groups' members (no admin/bot flags)"
        document["users"] = [users[key] for key in sorted(users)]
        return document
