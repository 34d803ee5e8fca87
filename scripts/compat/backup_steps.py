"""Backup steps of the compatibility check: jobs, sessions, log items, restore points and the
repository data listings, through the generated ``veeam-365`` client.

Mixed into ``Checker`` (veeam365_check.py), whose plumbing (``need_vc``, ``step``, ``check``,
``describe``, ``no_secrets``) these steps use. The generated client parses a body only on the
documented status code, and its job session model fails on ``"endTime": null``; so a step
that gets a parsed model back has already proved the shape.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from typing import Any

from veeam_365.v6.api.backup_mailbox_data import (
    backup_mailbox_data_get_mailbox_data,
    backup_mailbox_data_get_mailboxes_data,
)
from veeam_365.v6.api.backup_repository import backup_repository_add
from veeam_365.v6.api.backup_user_data import backup_user_data_get_users_data
from veeam_365.v6.api.job import (
    job_add,
    job_disable_action,
    job_enable_action,
    job_get,
    job_get_by_id,
    job_get_by_organization_id,
    job_get_selected_items,
    job_remove,
    job_start_action,
    job_stop_action,
)
from veeam_365.v6.api.job_session import job_session_get, job_session_get_by_id, job_session_get_by_job_id
from veeam_365.v6.api.job_session_log import (
    job_session_log_get_batch_by_session_id,
    job_session_log_get_batch_by_session_id_by_log_item_id,
)
from veeam_365.v6.api.licensed_user import licensed_user_get
from veeam_365.v6.api.organization import organization_add, organization_get_by_id
from veeam_365.v6.api.restore_point import (
    restore_point_get_restore_point,
    restore_point_get_restore_point_mailboxes,
    restore_point_get_restore_points,
)
from veeam_365.v6.models.page_of_rest_job_session import PageOfRESTJobSession
from veeam_365.v6.models.page_of_rest_log_item import PageOfRESTLogItem
from veeam_365.v6.models.rest_job_session_type import RESTJobSessionType
from veeam_365.v6.models.rest_backup_repository_from_client import RESTBackupRepositoryFromClient
from veeam_365.v6.models.rest_exception_info import RESTExceptionInfo
from veeam_365.v6.models.rest_job import RESTJob
from veeam_365.v6.models.rest_job_session import RESTJobSession
from veeam_365.v6.models.rest_start_job_options import RESTStartJobOptions
from veeam_365.v6.models.rest_organization_composed import RestOrganizationComposed


def _checker_module() -> Any:
    # The running check script (its CheckFailed is the one its steps catch),
    # whether it runs as __main__ or was imported.
    main = sys.modules.get("__main__")
    if main is not None and hasattr(main, "CheckFailed"):
        return main
    import veeam365_check

    return veeam365_check


def _check(condition: bool, message: str) -> None:
    _checker_module().check(condition, message)


def _describe(r: Any) -> str:
    return _checker_module().describe(r)


class BackupSteps:
    backup_org_id: uuid.UUID | None = None
    backup_repo_id: uuid.UUID | None = None
    job_id: uuid.UUID | None = None
    job_session_id: uuid.UUID | None = None
    restore_point_id: str | None = None
    backup_dir: str | None = None

    def backup_steps(self) -> list[tuple[str, Any]]:
        return [
            ("backup: add the organization again and a repository", self.backup_setup),
            ("POST Organizations/{id}/Jobs (200); an empty selection refused", self.job_add_step),
            ("GET Jobs, Organizations/{id}/Jobs, Jobs/{id}, SelectedItems", self.job_lists),
            ("POST Jobs/{id}/start (204); JobSessions until it ends", self.job_run),
            ("GET JobSessions, JobSessions/{id}, LogItems and LogItems/{id}", self.job_sessions_log),
            ("GET RestorePoints (jobId), /{id}, /mailboxes", self.job_restore_points),
            ("GET UserData, MailboxData, LicensedUsers; organization flags", self.job_listings),
            ("disable, start refused, enable, stop refused, DELETE Jobs/{id}", self.job_lifecycle),
        ]

    async def backup_setup(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        body = RestOrganizationComposed.from_dict(
            {
                "type": "Office365",
                "region": "Worldwide",
                "isExchangeOnline": True,
                "isSharePointOnline": True,
                "isTeamsOnline": False,
                "isTeamsChatsOnline": False,
                "exchangeOnlineSettings": self.settings(self.m365_password).to_dict(),  # type: ignore[attr-defined]
                "sharePointOnlineSettings": self.settings(self.m365_password).to_dict(),  # type: ignore[attr-defined]
            }
        )
        r = await vc.call(organization_add.asyncio_detailed, body=body)
        _check(r.status_code == 200, _describe(r))
        self.backup_org_id = r.parsed.id
        self.backup_dir = tempfile.mkdtemp(prefix="openvbo-compat-backup-")
        path = os.path.join(self.backup_dir, "repo")
        repo = RESTBackupRepositoryFromClient.from_dict(
            {"name": "Compat backups", "path": path, "retentionType": "SnapshotBased",
             "retentionPeriodType": "Yearly", "yearlyRetentionPeriod": "Year1"}
        )
        r = await vc.call(backup_repository_add.asyncio_detailed, body=repo)
        _check(r.status_code == 200, _describe(r))
        self.backup_repo_id = r.parsed.id
        return f"organization {self.backup_org_id}, repository {self.backup_repo_id}"

    async def job_add_step(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        org = self.need(self.backup_org_id, "organization")  # type: ignore[attr-defined]
        repo = self.need(self.backup_repo_id, "repository")  # type: ignore[attr-defined]
        empty = RESTJob.from_dict({"name": "Nothing", "backupType": "SelectedItems",
                                   "repositoryId": str(repo), "selectedItems": []})
        r = await vc.call(job_add.asyncio_detailed, org, body=empty)
        _check(r.status_code == 400 and isinstance(r.parsed, RESTExceptionInfo), _describe(r))
        refused = r.parsed.message
        body = RESTJob.from_dict({
            "name": "Compat mailboxes", "backupType": "SelectedItems", "repositoryId": str(repo),
            "selectedItems": [{"type": "PartialOrganization", "mailbox": True}],
            "schedulePolicy": {"type": "ManualOnly"},
        })
        r = await vc.call(job_add.asyncio_detailed, org, body=body)
        _check(r.status_code == 200 and isinstance(r.parsed, RESTJob), _describe(r))
        job = r.parsed
        self.job_id = job.id
        _check(job.is_enabled is True and job.last_status.value == "Stopped", f"{job.to_dict()}")
        _check("nextRun" not in job.to_dict(), f"a manual job has no nextRun: {job.to_dict()}")
        return f"job {job.id}; empty selection refused: {refused}"

    async def job_lists(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        job_id = self.need(self.job_id, "job")  # type: ignore[attr-defined]
        r = await vc.call(job_get.asyncio_detailed)
        _check(r.status_code == 200 and job_id in [j.id for j in r.parsed], _describe(r))
        r = await vc.call(job_get_by_organization_id.asyncio_detailed, self.backup_org_id)
        _check(r.status_code == 200 and [j.id for j in r.parsed] == [job_id], _describe(r))
        r = await vc.call(job_get_by_id.asyncio_detailed, job_id)
        _check(r.status_code == 200 and r.parsed.name == "Compat mailboxes", _describe(r))
        r = await vc.call(job_get_selected_items.asyncio_detailed, job_id)
        _check(r.status_code == 200 and len(r.parsed) == 1, _describe(r))
        item = r.parsed[0]
        _check(item.type_.value == "PartialOrganization" and item.mailbox is True, f"{item.to_dict()}")
        return f"selected item {item.id}"

    async def job_run(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        job_id = self.need(self.job_id, "job")  # type: ignore[attr-defined]
        r = await vc.call(job_start_action.asyncio_detailed, job_id, body=RESTStartJobOptions(full=False))
        _check(r.status_code == 204, _describe(r))
        deadline = time.monotonic() + 120
        while True:
            r = await vc.call(job_session_get_by_job_id.asyncio_detailed, job_id)
            _check(r.status_code == 200 and isinstance(r.parsed, PageOfRESTJobSession), _describe(r))
            if r.parsed.results and r.parsed.results[0].status.value not in ("Running", "Queued"):
                break
            _check(time.monotonic() < deadline, f"the session did not end: {_describe(r)}")
            await asyncio.sleep(0.2)
        s = r.parsed.results[0]
        self.job_session_id = s.id
        _check(s.status.value in ("Success", "Warning"), f"{s.to_dict()}")
        _check(s.end_time is not None and s.end_time >= s.creation_time, f"{s.to_dict()}")
        _check(s.progress >= 1 and s.statistics.transferred_data_bytes > 0, f"{s.to_dict()}")
        r = await vc.call(job_get_by_id.asyncio_detailed, job_id)
        _check(r.parsed.last_status.value == s.status.value, f"lastStatus {r.parsed.last_status}")
        return f"{s.status.value}: {s.progress} objects, {s.statistics.transferred_data_bytes} bytes"

    async def job_sessions_log(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        sid = self.need(self.job_session_id, "job session")  # type: ignore[attr-defined]
        r = await vc.call(job_session_get.asyncio_detailed, job_type=RESTJobSessionType.BACKUP)
        _check(r.status_code == 200 and sid in [s.id for s in r.parsed.results], _describe(r))
        r = await vc.call(job_session_get_by_id.asyncio_detailed, sid)
        _check(r.status_code == 200 and isinstance(r.parsed, RESTJobSession) and r.parsed.id == sid, _describe(r))
        r = await vc.call(job_session_log_get_batch_by_session_id.asyncio_detailed, sid, limit=1000)
        _check(r.status_code == 200 and isinstance(r.parsed, PageOfRESTLogItem), _describe(r))
        items = r.parsed.results
        usns = [i.usn for i in items]
        _check(usns == sorted(usns) and len(set(usns)) == len(usns), f"usn rises: {usns}")
        titles = [i.title for i in items]
        _check(titles[0].startswith("[Success] Job started at "), f"{titles}")
        _check(any(t.startswith("[Success] Processing mailbox: ") for t in titles), f"{titles}")
        r = await vc.call(job_session_log_get_batch_by_session_id_by_log_item_id.asyncio_detailed, sid, items[0].id)
        _check(r.status_code == 200 and r.parsed.title == titles[0], _describe(r))
        return f"{len(items)} log items, e.g. {titles[-1]!r}"

    async def job_restore_points(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        job_id = self.need(self.job_id, "job")  # type: ignore[attr-defined]
        r = await vc.call(restore_point_get_restore_points.asyncio_detailed, job_id=job_id)
        _check(r.status_code == 200 and isinstance(r.parsed, list) and len(r.parsed) == 1, _describe(r))
        p = r.parsed[0]
        _check(p.is_exchange is True and p.organization_id == self.backup_org_id, f"{p.to_dict()}")
        self.restore_point_id = p.id
        r = await vc.call(restore_point_get_restore_point.asyncio_detailed, p.id)
        _check(r.status_code == 200 and r.parsed.to_dict() == p.to_dict(), _describe(r))
        r = await vc.call(restore_point_get_restore_point_mailboxes.asyncio_detailed, p.id)
        _check(r.status_code == 200 and len(r.parsed) >= 1, _describe(r))
        return f"point {p.id} with {len(r.parsed)} mailboxes"

    async def job_listings(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        repo = self.need(self.backup_repo_id, "repository")  # type: ignore[attr-defined]
        r = await vc.call(backup_user_data_get_users_data.asyncio_detailed, repo)
        _check(r.status_code == 200 and r.parsed.total_count >= 1, _describe(r))
        _check(all(u.is_mailbox_backed_up for u in r.parsed.results), _describe(r))
        users = r.parsed.total_count
        r = await vc.call(backup_mailbox_data_get_mailboxes_data.asyncio_detailed, repo)
        _check(r.status_code == 200 and r.parsed.total_count == users, _describe(r))
        mailbox = r.parsed.results[0]
        r = await vc.call(backup_mailbox_data_get_mailbox_data.asyncio_detailed, repo, uuid.UUID(mailbox.id))
        _check(r.status_code == 200 and r.parsed.email == mailbox.email, _describe(r))
        r = await vc.call(licensed_user_get.asyncio_detailed, organization_id=str(self.backup_org_id))
        _check(r.status_code == 200 and r.parsed.total_count == users, _describe(r))
        r = await vc.call(organization_get_by_id.asyncio_detailed, self.backup_org_id)
        _check(r.status_code == 200 and r.parsed.is_backedup is True, _describe(r))
        _check(r.parsed.first_backuptime is not None and r.parsed.last_backuptime is not None, _describe(r))
        return f"{users} users protected; the organization is backed up"

    async def job_lifecycle(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        job_id = self.need(self.job_id, "job")  # type: ignore[attr-defined]
        r = await vc.call(job_disable_action.asyncio_detailed, job_id)
        _check(r.status_code == 204, _describe(r))
        r = await vc.call(job_start_action.asyncio_detailed, job_id, body=RESTStartJobOptions(full=False))
        _check(r.status_code == 409 and isinstance(r.parsed, RESTExceptionInfo), _describe(r))
        r = await vc.call(job_enable_action.asyncio_detailed, job_id)
        _check(r.status_code == 204, _describe(r))
        r = await vc.call(job_stop_action.asyncio_detailed, job_id)
        _check(r.status_code == 409 and isinstance(r.parsed, RESTExceptionInfo), _describe(r))
        r = await vc.call(job_remove.asyncio_detailed, job_id)
        _check(r.status_code == 204, _describe(r))
        r = await vc.call(job_get_by_id.asyncio_detailed, job_id)
        _check(r.status_code == 404, _describe(r))
        r = await vc.call(restore_point_get_restore_points.asyncio_detailed, job_id=job_id)
        _check(r.status_code == 200 and len(r.parsed) == 1, f"the restore point stays: {_describe(r)}")
        return "204s; disabled start and idle stop refused with 409; the restore point stays"
