"""Restore steps of the compatibility check: explore the backed-up organization (Exchange and
OneDrive), browse mailboxes, folders, items, OneDrives, folders and documents, save a message as
.msg and read it with an independent reader (extract-msg), save a document, restore a message
deleted in Microsoft 365 and stop the sessions, through the generated ``veeam-365`` client.

Mixed into ``Checker`` (veeam365_check.py) after ``BackupSteps``, whose job, repository and
organization these steps use.

The generated client declares the save operations' 200 answers as JSON objects and fails on
the bytes they are (``dict(b"...")``); those calls go through the same client's HTTP session
with the operation's own request builder (``_get_kwargs``) and read the answer raw, which is
what the package allows. Everything else is parsed by the generated models.

The truth the answers are checked against is the simulator itself, read and changed through
Microsoft Graph as an Outlook user would (``--sim-url``): the message's subject, sender,
recipients, body and attachments, the document's bytes, and the deleted message coming back.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

from veeam_365.v6.api.exchange_folder import exchange_folder_get
from veeam_365.v6.api.exchange_item import (
    exchange_item_get,
    exchange_item_get_by_id,
    exchange_item_restore_item_action,
    exchange_item_save_item_action,
)
from veeam_365.v6.api.exchange_mailbox import exchange_mailbox_get, exchange_mailbox_get_by_id
from veeam_365.v6.api.job import job_add, job_remove, job_start_action
from veeam_365.v6.api.job_session import job_session_get_by_job_id
from veeam_365.v6.api.one_drive import one_drive_get, one_drive_get_by_id
from veeam_365.v6.api.one_drive_document import (
    one_drive_document_get,
    one_drive_document_save_document_action,
)
from veeam_365.v6.api.one_drive_folder import one_drive_folder_get
from veeam_365.v6.api.organization import organization_explore_action
from veeam_365.v6.api.restore_session import (
    restore_session_get_by_restore_session_id,
    restore_session_stop_action,
)
from veeam_365.v6.api.restore_session_event import restore_session_event_get
from veeam_365.v6.models.page_of_rest_exchange_folder import PageOfRESTExchangeFolder
from veeam_365.v6.models.page_of_rest_exchange_items_composed import PageOfRESTExchangeItemsComposed
from veeam_365.v6.models.page_of_rest_exchange_mailbox import PageOfRESTExchangeMailbox
from veeam_365.v6.models.page_of_rest_job_session import PageOfRESTJobSession
from veeam_365.v6.models.page_of_rest_one_drive import PageOfRESTOneDrive
from veeam_365.v6.models.page_of_rest_one_drive_document import PageOfRESTOneDriveDocument
from veeam_365.v6.models.page_of_rest_one_drive_folder import PageOfRESTOneDriveFolder
from veeam_365.v6.models.rest_exception_info import RESTExceptionInfo
from veeam_365.v6.models.rest_explore_options import RESTExploreOptions
from veeam_365.v6.models.rest_explore_options_type import RESTExploreOptionsType
from veeam_365.v6.models.rest_items_restore_statistics import RESTItemsRestoreStatistics
from veeam_365.v6.models.rest_job import RESTJob
from veeam_365.v6.models.rest_restore_session import RESTRestoreSession
from veeam_365.v6.models.rest_restore_to_original_location import RESTRestoreToOriginalLocation
from veeam_365.v6.models.rest_save_one_drive_document_options import RESTSaveOneDriveDocumentOptions
from veeam_365.v6.models.rest_start_job_options import RESTStartJobOptions

# The message checked end to end: in the demo tenant it has a recipient, an HTML and a plain
# body and an attachment (crates/m365-sim/src/demo_mail.rs).
MAILBOX_OWNER = "adele.vance"
SUBJECT = "Q3 plan"
# Deleted in the simulator and restored.
RESTORED_SUBJECT = "Mark 8 review notes"
# The demo OneDrive with files, and a folder of it (crates/m365-sim/src/demo_files.rs).
ONEDRIVE_OWNER = "adele.vance"
ONEDRIVE_FOLDER = "Documents/Retail"
# A public client id the simulator accepts for password sign-in (Graph Command Line Tools).
CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
READ_MSG = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "openvbo-msg", "tests", "read_msg.py"
)


def _checker_module() -> Any:
    main = sys.modules.get("__main__")
    if main is not None and hasattr(main, "CheckFailed"):
        return main
    import veeam365_check

    return veeam365_check


def _check(condition: bool, message: str) -> None:
    _checker_module().check(condition, message)


def _describe(r: Any) -> str:
    return _checker_module().describe(r)


def _unset(value: Any) -> bool:
    return _checker_module().unset(value)


class _Refuse(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_Refuse)


class SimGraph:
    """Microsoft Graph of the simulator, as the organization's administrator."""

    def __init__(self, base: str, tenant: str, account: str, password: str):
        self.base = base.rstrip("/")
        form = urllib.parse.urlencode(
            {
                "client_id": CLIENT_ID,
                "grant_type": "password",
                "username": account,
                "password": password,
                "scope": "https://graph.microsoft.com/.default",
            }
        ).encode()
        with urllib.request.urlopen(f"{self.base}/{tenant}/oauth2/v2.0/token", data=form, timeout=30) as r:
            self.token = json.load(r)["access_token"]

    def request(self, method: str, path: str) -> tuple[int, bytes]:
        req = urllib.request.Request(
            f"{self.base}/v1.0/{path}", method=method, headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with _NO_REDIRECTS.open(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as err:
            location = err.headers.get("Location")
            if err.code in (302, 303, 307) and location:
                # File content is behind a pre-authenticated URL that takes no bearer token.
                with urllib.request.urlopen(location, timeout=30) as r:
                    return r.status, r.read()
            return err.code, err.read()

    def json(self, path: str) -> Any:
        status, body = self.request("GET", path)
        _check(status == 200, f"Graph GET {path}: HTTP {status} {body[:300]!r}")
        return json.loads(body)

    def user(self, local: str) -> dict[str, Any]:
        """The user whose principal name starts with ``local@``."""
        users = self.json("users?$top=999&$select=id,userPrincipalName,mail")["value"]
        found = [u for u in users if u["userPrincipalName"].lower().startswith(f"{local}@")]
        _check(len(found) == 1, f"{local}@… in the simulator: {[u['userPrincipalName'] for u in users]}")
        return found[0]

    def user_id(self, local: str) -> str:
        return self.user(local)["id"]

    def pages(self, path: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        nxt: str | None = path
        while nxt:
            page = self.json(nxt)
            out.extend(page["value"])
            link = page.get("@odata.nextLink")
            nxt = link.split("/v1.0/", 1)[1] if link else None
        return out

    def messages(self, user: str) -> list[dict[str, Any]]:
        """Every message of every folder (Graph lists messages folder by folder)."""
        out: list[dict[str, Any]] = []
        queue = [f"users/{user}/mailFolders?$top=250"]
        while queue:
            for folder in self.pages(queue.pop()):
                out.extend(self.pages(f"users/{user}/mailFolders/{folder['id']}/messages?$top=100"))
                if folder.get("childFolderCount"):
                    queue.append(f"users/{user}/mailFolders/{folder['id']}/childFolders?$top=250")
        return out

    def by_subject(self, user: str, subject: str) -> list[dict[str, Any]]:
        return [m for m in self.messages(user) if m.get("subject") == subject]


class RestoreSteps:
    vex_session: uuid.UUID | None = None
    veod_session: uuid.UUID | None = None
    drive_job_id: uuid.UUID | None = None
    mailbox_id: str | None = None
    mail_folders: dict[str, str] | None = None
    restore_dir: str | None = None
    graph: SimGraph | None = None

    def restore_steps(self) -> list[tuple[str, Any]]:
        return [
            ("restore: a OneDrive job backs up the OneDrives", self.restore_drive_backup),
            ("POST Organizations/{id}/explore (Vex); GET RestoreSessions/{id}", self.restore_explore_vex),
            ("Vex: GET Mailboxes, Mailboxes/{id}, Folders (tree and parentId)", self.restore_mailboxes),
            ("Vex: GET Items (folderId) and Items/{id}", self.restore_items),
            ("Vex: POST Items/{id}/save as .msg, read by extract-msg", self.restore_save_msg),
            ("Vex: a message deleted in Microsoft 365 restored (non-draft); again skipped", self.restore_deleted),
            ("Vex: Events; POST Stop; a stopped session refuses actions", self.restore_stop_vex),
            ("POST explore (Veod): OneDrives, Folders, Documents", self.restore_onedrives),
            ("Veod: POST Documents/{id}/save equals Microsoft's bytes; Stop", self.restore_save_document),
        ]

    # ------------------------------------------------------------------ helpers

    def sim(self) -> SimGraph:
        if self.graph is None:
            url = getattr(self.args, "sim_url", None)  # type: ignore[attr-defined]
            _check(bool(url), "no --sim-url: the simulator's Graph is needed to check restores")
            account = self.args.m365_account  # type: ignore[attr-defined]
            self.graph = SimGraph(url, account.split("@", 1)[1], account, self.m365_password)  # type: ignore[attr-defined]
        return self.graph


    async def raw(self, module: Any, *args: Any, **kwargs: Any) -> Any:
        """An operation sent through the client's own HTTP session, its answer read raw."""
        vc = self.need_vc()  # type: ignore[attr-defined]
        await vc._refresh_token_if_needed()  # the same step vc.call takes first
        http = vc._client.get_async_httpx_client()
        return await http.request(**module._get_kwargs(*args, **kwargs))

    async def explore(self, kind: RESTExploreOptionsType) -> RESTRestoreSession:
        vc = self.need_vc()  # type: ignore[attr-defined]
        org = self.need(self.backup_org_id, "organization")  # type: ignore[attr-defined]
        body = RESTExploreOptions(date_time=datetime.datetime.now(datetime.timezone.utc), type_=kind)
        r = await vc.call(organization_explore_action.asyncio_detailed, org, body=body)
        _check(r.status_code == 200 and isinstance(r.parsed, RESTRestoreSession), _describe(r))
        s = r.parsed
        _check(s.state.value == "Working" and s.type_.value == kind.value, f"{s.to_dict()}")
        return s

    def need_vex(self) -> uuid.UUID:
        return self.need(self.vex_session, "Vex restore session")  # type: ignore[attr-defined]

    def need_mailbox(self) -> str:
        return self.need(self.mailbox_id, "mailbox of the Vex session")  # type: ignore[attr-defined]

    async def item_by_subject(self, folder_id: str, subject: str) -> Any:
        vc = self.need_vc()  # type: ignore[attr-defined]
        r = await vc.call(
            exchange_item_get.asyncio_detailed, self.need_vex(), self.need_mailbox(), folder_id=folder_id, limit=100
        )
        _check(r.status_code == 200 and isinstance(r.parsed, PageOfRESTExchangeItemsComposed), _describe(r))
        found = [i for i in r.parsed.results if i.subject == subject]
        _check(len(found) == 1, f"{subject!r} in folder {folder_id}: {[i.subject for i in r.parsed.results]}")
        return found[0]

    # ------------------------------------------------------------------ steps

    async def restore_drive_backup(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        org = self.need(self.backup_org_id, "organization")  # type: ignore[attr-defined]
        repo = self.need(self.backup_repo_id, "repository")  # type: ignore[attr-defined]
        body = RESTJob.from_dict({
            "name": "Compat OneDrives", "backupType": "SelectedItems", "repositoryId": str(repo),
            "selectedItems": [{"type": "PartialOrganization", "oneDrive": True}],
            "schedulePolicy": {"type": "ManualOnly"},
        })
        r = await vc.call(job_add.asyncio_detailed, org, body=body)
        _check(r.status_code == 200 and isinstance(r.parsed, RESTJob), _describe(r))
        self.drive_job_id = r.parsed.id
        r = await vc.call(job_start_action.asyncio_detailed, self.drive_job_id, body=RESTStartJobOptions(full=False))
        _check(r.status_code == 204, _describe(r))
        deadline = time.monotonic() + 120
        while True:
            r = await vc.call(job_session_get_by_job_id.asyncio_detailed, self.drive_job_id)
            _check(r.status_code == 200 and isinstance(r.parsed, PageOfRESTJobSession), _describe(r))
            if r.parsed.results and r.parsed.results[0].status.value not in ("Running", "Queued"):
                break
            _check(time.monotonic() < deadline, f"the OneDrive backup did not end: {_describe(r)}")
            await asyncio.sleep(0.2)
        s = r.parsed.results[0]
        _check(s.status.value in ("Success", "Warning"), f"{s.to_dict()}")
        return f"{s.status.value}: {s.progress} objects, {s.statistics.transferred_data_bytes} bytes"

    async def restore_explore_vex(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        s = await self.explore(RESTExploreOptionsType.VEX)
        self.vex_session = s.id
        r = await vc.call(restore_session_get_by_restore_session_id.asyncio_detailed, s.id)
        _check(r.status_code == 200 and isinstance(r.parsed, RESTRestoreSession), _describe(r))
        _check(r.parsed.id == s.id and r.parsed.state.value == "Working", f"{r.parsed.to_dict()}")
        _check(r.parsed.result.value == "Success", f"{r.parsed.to_dict()}")
        return f"session {s.id} ({s.name})"

    async def restore_mailboxes(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        sid = self.need_vex()
        r = await vc.call(exchange_mailbox_get.asyncio_detailed, sid, limit=100)
        _check(r.status_code == 200 and isinstance(r.parsed, PageOfRESTExchangeMailbox), _describe(r))
        mailboxes = r.parsed.results
        owner = self.sim().user(MAILBOX_OWNER)["userPrincipalName"]
        # Every user of the tenant with a mailbox was backed up by the backup steps' job.
        graph_users = self.sim().json("users?$top=999&$select=userPrincipalName,mail")["value"]
        with_mail = {u["mail"].lower() for u in graph_users if u.get("mail")}
        emails = {str(m.email).lower() for m in mailboxes}
        _check(r.parsed.total_count == len(mailboxes) and len(mailboxes) >= 2, _describe(r))
        _check(emails <= with_mail, f"mailboxes {sorted(emails)} are not all users {sorted(with_mail)}")
        mine = [m for m in mailboxes if str(m.email).lower().split("@")[0] == MAILBOX_OWNER]
        _check(len(mine) == 1, f"no mailbox of {owner} among {sorted(emails)}")
        self.mailbox_id = str(mine[0].id)
        r = await vc.call(exchange_mailbox_get_by_id.asyncio_detailed, sid, self.mailbox_id)
        _check(r.status_code == 200 and r.parsed.email == mine[0].email, _describe(r))
        # The whole tree (no parentId), then the top level (parentId null) and one level down.
        r = await vc.call(exchange_folder_get.asyncio_detailed, sid, self.mailbox_id, limit=100)
        _check(r.status_code == 200 and isinstance(r.parsed, PageOfRESTExchangeFolder), _describe(r))
        tree = {f.name: f.id for f in r.parsed.results}
        _check({"Inbox", "Sent Items", "Mark 8"} <= set(tree), f"folders {sorted(tree)}")
        r = await vc.call(exchange_folder_get.asyncio_detailed, sid, self.mailbox_id, parent_id="root", limit=100)
        _check(r.status_code == 200, _describe(r))
        top = {f.name for f in r.parsed.results}
        _check("Inbox" in top and "Mark 8" not in top, f"top-level folders {sorted(top)}")
        r = await vc.call(
            exchange_folder_get.asyncio_detailed, sid, self.mailbox_id, parent_id=tree["Inbox"], limit=100
        )
        _check(r.status_code == 200 and [f.name for f in r.parsed.results] == ["Mark 8"], _describe(r))
        self.mail_folders = tree
        return f"{len(mailboxes)} mailboxes; {owner}: {len(tree)} folders"

    async def restore_items(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        folders = self.need(self.mail_folders, "folders")  # type: ignore[attr-defined]
        item = await self.item_by_subject(folders["Inbox"], SUBJECT)
        _check(item.item_class == "IPM.Note", f"itemClass {item.item_class!r}")
        _check(not _unset(item.received), f"received missing: {item.to_dict()}")
        # The catalog shows the sender only when the backup recorded it.
        _check(_unset(item.from_) or "alex.wilber" in str(item.from_), f"from {item.from_!r}")
        r = await vc.call(exchange_item_get_by_id.asyncio_detailed, self.need_vex(), self.need_mailbox(), item.id)
        _check(r.status_code == 200 and r.parsed.id == item.id and r.parsed.subject == SUBJECT, _describe(r))
        sender = "not listed" if _unset(item.from_) else item.from_
        return f"{SUBJECT!r} (from: {sender}) received {item.received}"

    async def restore_save_msg(self) -> str:
        folders = self.need(self.mail_folders, "folders")  # type: ignore[attr-defined]
        item = await self.item_by_subject(folders["Inbox"], SUBJECT)
        r = await self.raw(exchange_item_save_item_action, self.need_vex(), self.need_mailbox(), item.id)
        _check(r.status_code == 200, f"HTTP {r.status_code} {r.content[:300]!r}")
        disposition = r.headers.get("content-disposition", "")
        _check(".msg" in disposition, f"Content-Disposition {disposition!r}")
        # An Outlook message is a compound file.
        _check(r.content[:8] == bytes.fromhex("d0cf11e0a1b11ae1"), f"not a compound file: {r.content[:16]!r}")
        self.restore_dir = self.restore_dir or tempfile.mkdtemp(prefix="openvbo-compat-restore-")
        path = os.path.join(self.restore_dir, "saved.msg")
        with open(path, "wb") as f:
            f.write(r.content)
        python = os.environ.get("OPENVBO_EXTRACT_MSG_PYTHON", "python3")
        out = subprocess.run([python, READ_MSG, path], capture_output=True, text=True, timeout=120)
        _check(out.returncode == 0, f"extract-msg could not read the file: {out.stderr[-800:]}")
        msg = json.loads(out.stdout)[0]
        # What Microsoft 365 holds for that message.
        sim = self.sim()
        user = sim.user_id(MAILBOX_OWNER)
        live = sim.by_subject(user, SUBJECT)
        _check(len(live) == 1, f"{SUBJECT!r} in the simulator: {len(live)}")
        m = live[0]
        atts = sim.json(f"users/{user}/messages/{m['id']}/attachments")["value"]
        _check(msg["subject"] == m["subject"], f"subject {msg['subject']!r} != {m['subject']!r}")
        sender = m["from"]["emailAddress"]["address"]
        _check(sender.lower() in str(msg["sender"]).lower(), f"sender {msg['sender']!r} != {sender!r}")
        want_to = sorted(r_["emailAddress"]["address"].lower() for r_ in m["toRecipients"])
        got_to = sorted(str(r_["email"]).lower() for r_ in msg["recipients"] if r_["type"] == 1)
        _check(got_to == want_to, f"To recipients {got_to} != {want_to}")
        # The HTML body is what the simulator stores (bodyPreview is its text); the MSG keeps
        # both the plain text and the HTML stream.
        _check("the Q3 plan is attached" in (msg["body"] or ""), f"plain body {msg['body']!r}")
        _check("the Q3 plan is attached" in (msg["html"] or ""), f"HTML body {msg['html']!r}")
        _check(m["body"]["content"].count("Q3 plan is attached") == 1, f"Graph body {m['body']!r}")
        want_atts = sorted(
            (a["name"], a["size"] if not a.get("contentBytes") else len(base64.b64decode(a["contentBytes"])),
             hashlib.sha256(base64.b64decode(a["contentBytes"])).hexdigest() if a.get("contentBytes") else None)
            for a in atts
        )
        got_atts = sorted((a["name"], a["size"], a["sha256"]) for a in msg["attachments"])
        _check(
            [(n, s) for n, s, _ in got_atts] == [(n, s) for n, s, _ in want_atts],
            f"attachments {got_atts} != {want_atts}",
        )
        _check(
            all(w is None or g == w for (_, _, g), (_, _, w) in zip(got_atts, want_atts)),
            f"attachment bytes differ: {got_atts} != {want_atts}",
        )
        return f"{len(r.content)} bytes; {msg['subject']!r} from {msg['sender']}, attachments {[(n, s) for n, s, _ in got_atts]}"

    async def restore_deleted(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        folders = self.need(self.mail_folders, "folders")  # type: ignore[attr-defined]
        sim = self.sim()
        user = sim.user_id(MAILBOX_OWNER)
        live = sim.by_subject(user, RESTORED_SUBJECT)
        _check(len(live) == 1, f"{RESTORED_SUBJECT!r} in the simulator before: {len(live)}")
        before = live[0]
        status, body = sim.request("DELETE", f"users/{user}/messages/{before['id']}")
        _check(status == 204, f"deleting in the simulator: HTTP {status} {body[:200]!r}")
        _check(sim.by_subject(user, RESTORED_SUBJECT) == [], "the message is still in the simulator")
        item = await self.item_by_subject(folders["Inbox"], RESTORED_SUBJECT)
        r = await vc.call(
            exchange_item_restore_item_action.asyncio_detailed,
            self.need_vex(),
            self.need_mailbox(),
            item.id,
            body=RESTRestoreToOriginalLocation(),
        )
        _check(r.status_code == 200 and isinstance(r.parsed, RESTItemsRestoreStatistics), _describe(r))
        st = r.parsed
        _check((st.created_items_count, st.failed_items_count, st.skipped_items_count) == (1, 0, 0), _describe(r))
        back = sim.by_subject(user, RESTORED_SUBJECT)
        _check(len(back) == 1, f"{RESTORED_SUBJECT!r} after the restore: {len(back)}")
        m = back[0]
        _check(m.get("isDraft") is False, f"isDraft {m.get('isDraft')!r}")
        _check(m.get("isRead") == before.get("isRead"), f"isRead {m.get('isRead')} != {before.get('isRead')}")
        _check(m.get("parentFolderId") == before.get("parentFolderId"), "restored into another folder")
        _check(
            m["from"]["emailAddress"]["address"].lower() == before["from"]["emailAddress"]["address"].lower(),
            f"from {m['from']} != {before['from']}",
        )
        _check(m.get("receivedDateTime") == before.get("receivedDateTime"),
               f"received {m.get('receivedDateTime')} != {before.get('receivedDateTime')}")
        r = await vc.call(
            exchange_item_restore_item_action.asyncio_detailed,
            self.need_vex(),
            self.need_mailbox(),
            item.id,
            body=RESTRestoreToOriginalLocation(),
        )
        _check(r.status_code == 200 and r.parsed.skipped_items_count == 1, _describe(r))
        _check(r.parsed.created_items_count == 0, _describe(r))
        _check(len(sim.by_subject(user, RESTORED_SUBJECT)) == 1, "the second restore duplicated the message")
        return f"created 1 (isDraft false, received {m.get('receivedDateTime')}), then skipped 1"

    async def restore_stop_vex(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        sid = self.need_vex()
        r = await vc.call(restore_session_event_get.asyncio_detailed, sid)
        _check(r.status_code == 200, _describe(r))
        events = r.parsed.results
        types = [str(e.type_.value) if not _unset(e.type_) else "" for e in events]
        _check(len(events) >= 4 and "Save" in types and "Restore" in types, f"events {types}")
        r = await vc.call(restore_session_stop_action.asyncio_detailed, sid)
        _check(r.status_code == 200, _describe(r))
        r = await vc.call(restore_session_stop_action.asyncio_detailed, sid)
        _check(r.status_code == 200, f"a second Stop: {_describe(r)}")
        r = await vc.call(restore_session_get_by_restore_session_id.asyncio_detailed, sid)
        _check(r.status_code == 200 and r.parsed.state.value == "Stopped", _describe(r))
        _check(not _unset(r.parsed.end_time) and r.parsed.end_time is not None, _describe(r))
        r = await vc.call(exchange_mailbox_get.asyncio_detailed, sid)
        _check(r.status_code >= 400 and isinstance(r.parsed, RESTExceptionInfo), _describe(r))
        return f"{len(events)} events; after Stop: HTTP {int(r.status_code)} {r.parsed.message}"

    async def restore_onedrives(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        s = await self.explore(RESTExploreOptionsType.VEOD)
        self.veod_session = s.id
        r = await vc.call(one_drive_get.asyncio_detailed, s.id, limit=100)
        _check(r.status_code == 200 and isinstance(r.parsed, PageOfRESTOneDrive), _describe(r))
        drives = r.parsed.results
        _check(len(drives) >= 1 and r.parsed.total_count == len(drives), _describe(r))
        sim = self.sim()
        owner = sim.user(ONEDRIVE_OWNER)
        user = owner["id"]
        mine = [d for d in drives if str(d.id) == user]
        _check(len(mine) == 1, f"no OneDrive of {owner['userPrincipalName']} among {[d.to_dict() for d in drives]}")
        drive = str(mine[0].id)
        r = await vc.call(one_drive_get_by_id.asyncio_detailed, s.id, drive)
        _check(r.status_code == 200 and str(r.parsed.id) == drive, _describe(r))
        # Walk down to ONEDRIVE_FOLDER by parentId, comparing each level with Microsoft's.
        parent = "root"
        graph_path = ""
        for name in [*ONEDRIVE_FOLDER.split("/"), None]:
            live = sim.json(
                f"users/{user}/drive/root" + (f":/{urllib.parse.quote(graph_path)}:" if graph_path else "")
                + "/children?$top=999"
            )["value"]
            r = await vc.call(one_drive_folder_get.asyncio_detailed, s.id, drive, parent_id=parent, limit=100)
            _check(r.status_code == 200 and isinstance(r.parsed, PageOfRESTOneDriveFolder), _describe(r))
            folders = {f.name: f.id for f in r.parsed.results}
            want = sorted(i["name"] for i in live if "folder" in i)
            _check(sorted(folders) == want, f"folders under {graph_path or '/'}: {sorted(folders)} != {want}")
            r = await vc.call(one_drive_document_get.asyncio_detailed, s.id, drive, parent_id=parent, limit=100)
            _check(r.status_code == 200 and isinstance(r.parsed, PageOfRESTOneDriveDocument), _describe(r))
            docs = r.parsed.results
            sizes = {i["name"]: i["size"] for i in live if "file" in i}
            got = {d.name: d.size_bytes for d in docs}
            _check(got == sizes, f"documents under {graph_path or '/'}: {got} != Microsoft's {sizes}")
            if name is None:
                break
            _check(name in folders, f"no folder {name} under {graph_path or '/'}")
            parent = folders[name]
            graph_path = f"{graph_path}/{name}".strip("/")
        _check(bool(docs), f"no documents in {ONEDRIVE_FOLDER}")
        self._veod = (drive, user, graph_path, docs)
        return f"{len(drives)} OneDrives; {owner['userPrincipalName']}/{ONEDRIVE_FOLDER}: {sorted(got.items())}"

    async def restore_save_document(self) -> str:
        vc = self.need_vc()  # type: ignore[attr-defined]
        sid = self.need(self.veod_session, "Veod restore session")  # type: ignore[attr-defined]
        drive, user, graph_path, docs = self.need(getattr(self, "_veod", None), "OneDrive documents")  # type: ignore[attr-defined]
        sim = self.sim()
        saved = []
        for doc in docs:
            r = await self.raw(
                one_drive_document_save_document_action, sid, drive, doc.id,
                body=RESTSaveOneDriveDocumentOptions(as_zip=False),
            )
            _check(r.status_code == 200, f"HTTP {r.status_code} {r.content[:300]!r}")
            path = urllib.parse.quote(f"{graph_path}/{doc.name}")
            status, want = sim.request("GET", f"users/{user}/drive/root:/{path}:/content")
            _check(status == 200, f"Graph content of {doc.name}: HTTP {status}")
            _check(r.content == want, f"{doc.name}: saved {len(r.content)} bytes != Microsoft's {len(want)} "
                   f"(sha256 {hashlib.sha256(r.content).hexdigest()[:12]} / {hashlib.sha256(want).hexdigest()[:12]})")
            saved.append(f"{doc.name} {len(r.content)} B sha256 {hashlib.sha256(r.content).hexdigest()[:12]}")
        r2 = await vc.call(restore_session_stop_action.asyncio_detailed, sid)
        _check(r2.status_code == 200, _describe(r2))
        r2 = await vc.call(one_drive_get.asyncio_detailed, sid)
        _check(r2.status_code >= 400 and isinstance(r2.parsed, RESTExceptionInfo), _describe(r2))
        if self.drive_job_id is not None:
            r2 = await vc.call(job_remove.asyncio_detailed, self.drive_job_id)
            _check(r2.status_code == 204, _describe(r2))
        return "; ".join(saved) + "; session stopped"
