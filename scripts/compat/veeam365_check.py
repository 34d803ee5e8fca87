#!/usr/bin/env python3
"""Compatibility check of openvbo against a client generated from the official schema.

The client is the unmodified PyPI package ``veeam-365`` (its generated ``veeam_365.v6``
package and its ``VeeamClient`` wrapper). The check walks the organization life cycle the
way an existing VB365 integration would: discover the API version, log in, read the service
instance, refresh the token, add the demo organization with basic authentication, list it,
read it, browse its Microsoft 365 objects (users and their OneDrives, groups and their members,
teams, sites, licensing information; pages cached under a setId), update it, remove it and
confirm it is gone. Then the storage side: the Local proxy, a backup repository on a local
path (add, list, read, change, remove), an encryption key, an S3-compatible account (201),
an object storage repository on a moto_server the check starts (OPENVBO_MOTO_SERVER or
moto_server on PATH), bucket and folder browsing, and an encrypted repository on it.
Then backup (backup_steps.py: jobs, sessions, log, restore points) and restore
(restore_steps.py: explore, browse, save a .msg read by extract-msg, restore a message deleted
in the simulator, OneDrive documents, stop), checked against the simulator's Graph (--sim-url).

Every response is parsed by the generated models; the assertions are made on those models.
No response body may contain any password that the check sent.

Run by scripts/compat/run.sh, which starts the Microsoft 365 simulator and the server.
Passwords come from the environment so that they never show in a process list:
OPENVBO_COMPAT_PASSWORD (the openvbo administrator) and OPENVBO_COMPAT_M365_PASSWORD (the
Microsoft 365 account of the organization).

Prints one line per step and closes with ``N passed, M failed``; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
import sys
import traceback
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from backup_steps import BackupSteps
from restore_steps import RestoreSteps
from veeam_365.client import VeeamClient
from veeam_365.discovery import detect_api_version
from veeam_365.exceptions import VeeamAuthenticationError
from veeam_365.v6.api.organization import (
    organization_add,
    organization_get,
    organization_get_by_id,
    organization_remove,
    organization_update,
)
from veeam_365.v6.api.organization_group import organization_group_get, organization_group_get_by_id
from veeam_365.v6.api.organization_group_member import organization_group_member_get
from veeam_365.v6.api.organization_licensing_information import (
    organization_licensing_information_get_license_count,
)
from veeam_365.v6.api.organization_site import organization_site_get, organization_site_get_by_id
from veeam_365.v6.api.organization_team import organization_team_get, organization_team_get_by_id
from veeam_365.v6.api.organization_user import organization_user_get, organization_user_get_by_id
from veeam_365.v6.api.organization_user_one_drive import (
    organization_user_one_drive_get_one,
    organization_user_one_drive_get_page,
)
from veeam_365.v6.api.service_instance import service_instance_get
from veeam_365.v6.api.account import (
    account_add_credential,
    account_get_credential,
    account_get_credentials,
    account_remove_credential,
    account_update_credential,
)
from veeam_365.v6.api.amazon_s3_compatible_object_storage import (
    amazon_s3_compatible_object_storage_add_folder,
    amazon_s3_compatible_object_storage_get_buckets,
    amazon_s3_compatible_object_storage_get_folders,
)
from veeam_365.v6.api.backup_repository import (
    backup_repository_add,
    backup_repository_get_repositories,
    backup_repository_get_repositories_by_id,
    backup_repository_remove,
    backup_repository_update_repository,
)
from veeam_365.v6.api.encryption_key import (
    encryption_key_add_encryption_key,
    encryption_key_get_encryption_key,
    encryption_key_get_encryption_key_by_id,
    encryption_key_remove_encryption_key,
)
from veeam_365.v6.api.object_storage_repository import (
    object_storage_repository_add_object_storage_repository,
    object_storage_repository_get_object_repository,
    object_storage_repository_get_object_storage_repositories,
    object_storage_repository_remove_object_storage_repository,
)
from veeam_365.v6.api.proxy import proxy_get_proxies, proxy_get_proxy
from veeam_365.v6.models.rest_amazon_bucket_s3_compatible import RESTAmazonBucketS3Compatible
from veeam_365.v6.models.rest_amazon_folder_to_receive_s3_compatible import (
    RESTAmazonFolderToReceiveS3Compatible,
)
from veeam_365.v6.models.rest_amazon_folder_to_send import RESTAmazonFolderToSend
from veeam_365.v6.models.rest_backup_repository import RESTBackupRepository
from veeam_365.v6.models.rest_backup_repository_from_client import RESTBackupRepositoryFromClient
from veeam_365.v6.models.rest_credential import RESTCredential
from veeam_365.v6.models.rest_credential_to_send import RESTCredentialToSend
from veeam_365.v6.models.rest_encryption_key import RESTEncryptionKey
from veeam_365.v6.models.rest_encryption_key_to_send import RESTEncryptionKeyToSend
from veeam_365.v6.models.rest_object_storage_repository_composed import (
    RESTObjectStorageRepositoryComposed,
)
from veeam_365.v6.models.rest_proxy import RESTProxy
from veeam_365.v6.client import AuthenticatedClient, Client
from veeam_365.v6.models.o_auth_token_response import OAuthTokenResponse
from veeam_365.v6.models.page_of_rest_group import PageOfRESTGroup
from veeam_365.v6.models.page_of_rest_group_member import PageOfRESTGroupMember
from veeam_365.v6.models.page_of_rest_one_drive import PageOfRESTOneDrive
from veeam_365.v6.models.page_of_rest_site import PageOfRESTSite
from veeam_365.v6.models.page_of_rest_team import PageOfRESTTeam
from veeam_365.v6.models.page_of_rest_user import PageOfRESTUser
from veeam_365.v6.models.rest_group import RESTGroup
from veeam_365.v6.models.rest_group_member import RESTGroupMember
from veeam_365.v6.models.rest_group_member_type import RESTGroupMemberType
from veeam_365.v6.models.rest_group_type import RESTGroupType
from veeam_365.v6.models.rest_one_drive import RESTOneDrive
from veeam_365.v6.models.rest_organization_licensing_information import (
    RESTOrganizationLicensingInformation,
)
from veeam_365.v6.models.rest_exception_info import RESTExceptionInfo
from veeam_365.v6.models.rest_office_365_connection_settings_type_0 import (
    RESTOffice365ConnectionSettingsType0,
)
from veeam_365.v6.models.rest_organization_composed import RestOrganizationComposed
from veeam_365.v6.models.rest_organization_region import RestOrganizationRegion
from veeam_365.v6.models.rest_organization_type import RestOrganizationType
from veeam_365.v6.models.rest_service_instance import RESTServiceInstance
from veeam_365.v6.models.rest_site import RESTSite
from veeam_365.v6.models.rest_team import RESTTeam
from veeam_365.v6.models.rest_user import RESTUser
from veeam_365.v6.models.token_data_body import TokenDataBody
from veeam_365.v6.models.token_data_body_grant_type import TokenDataBodyGrantType
from veeam_365.v6.models.token_json_body import TokenJsonBody
from veeam_365.v6.models.token_json_body_grant_type import TokenJsonBodyGrantType
from veeam_365.v6.types import Unset

# veeam_365.v6.api.auth.token annotates with Unset without importing it (the package's
# VeeamClient works around that the same way when it imports the module).
import builtins  # noqa: E402

builtins.Unset = Unset  # type: ignore[attr-defined]
from veeam_365.v6.api.auth import token as token_api  # noqa: E402

del builtins.Unset  # type: ignore[attr-defined]


# A user principal name: local@domain.tld.
UPN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CheckFailed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def unset(value: Any) -> bool:
    return value is None or isinstance(value, Unset)


def status_of(response: Any) -> int:
    return int(response.status_code)


def describe(response: Any) -> str:
    body = response.content.decode("utf-8", "replace")
    if len(body) > 400:
        body = body[:400] + "..."
    return f"HTTP {status_of(response)} {body}"


class Checker(BackupSteps, RestoreSteps):
    def __init__(self, args: argparse.Namespace, password: str, m365_password: str):
        self.args = args
        self.password = password
        self.m365_password = m365_password
        self.ssl_context = ssl.create_default_context(cafile=args.ca)
        self.passed = 0
        self.failed = 0
        self.vc: VeeamClient | None = None
        self.token: OAuthTokenResponse | None = None
        self.org_id: uuid.UUID | None = None
        # Microsoft 365 objects of the organization, as listed by the steps that read them.
        self.users: list[RESTUser] | None = None
        self.groups: list[RESTGroup] | None = None
        self.sites: list[RESTSite] | None = None
        # Repositories, object storage and keys, as the steps that add them record them.
        self.proxy_id: uuid.UUID | None = None
        self.repo_id: uuid.UUID | None = None
        self.key_id: uuid.UUID | None = None
        self.account_id: uuid.UUID | None = None
        self.storage_id: uuid.UUID | None = None
        self.s3_repo_id: uuid.UUID | None = None
        self.work_dir: str | None = None
        self.moto: subprocess.Popen[bytes] | None = None
        self.s3_endpoint: str | None = None
        self.key_password = "Compat-Encryption-Passw0rd"
        self.s3_secret = "compat-S3-secret/never+returned"
        self.secrets = [
            s for s in (password, m365_password, args.m365_wrong_password, self.key_password, self.s3_secret) if s
        ]

    # ------------------------------------------------------------------ plumbing

    async def step(self, name: str, fn: Callable[[], Awaitable[str | None]]) -> None:
        try:
            detail = await fn()
        except CheckFailed as err:
            self.failed += 1
            print(f"FAIL {name}: {err}", flush=True)
        except Exception as err:  # an exception from the package is a failure too
            self.failed += 1
            print(f"FAIL {name}: {type(err).__name__}: {err}", flush=True)
            traceback.print_exc(file=sys.stdout)
        else:
            self.passed += 1
            print(f"ok   {name}" + (f" ({detail})" if detail else ""), flush=True)

    def no_secrets(self, response: Any) -> None:
        body = response.content.decode("utf-8", "replace")
        for secret in self.secrets:
            check(secret not in body, f"a password appears in the response body: {describe(response)}")

    def need_vc(self) -> VeeamClient:
        check(self.vc is not None, "no session (the login step failed)")
        return self.vc  # type: ignore[return-value]

    def need_org(self) -> uuid.UUID:
        check(self.org_id is not None, "no organization id (the add step failed)")
        return self.org_id  # type: ignore[return-value]

    def settings(self, password: str | None) -> RESTOffice365ConnectionSettingsType0:
        s = RESTOffice365ConnectionSettingsType0(
            account=self.args.m365_account,
            grant_admin_access=True,
            use_mfa=False,
            use_custom_veeam_aad_application=False,
        )
        if password is not None:
            s.password = password
        return s

    def assert_org(self, org: Any, *, teams: bool) -> None:
        expected = self.args.expected_name
        check(isinstance(org, RestOrganizationComposed), f"not a RestOrganizationComposed: {org!r}")
        check(isinstance(org.id, uuid.UUID), f"id is not a UUID: {org.id!r}")
        check(org.name == expected, f"name {org.name!r} != {expected!r}")
        check(org.office_name == expected, f"officeName {org.office_name!r} != {expected!r}")
        check(org.type_ == RestOrganizationType.OFFICE365, f"type {org.type_!r}")
        check(org.region == RestOrganizationRegion.WORLDWIDE, f"region {org.region!r}")
        check(org.is_exchange_online is True, f"isExchangeOnline {org.is_exchange_online!r}")
        check(org.is_share_point_online is True, f"isSharePointOnline {org.is_share_point_online!r}")
        check(org.is_teams_online is teams, f"isTeamsOnline {org.is_teams_online!r} != {teams}")
        check(org.is_teams_chats_online is False, f"isTeamsChatsOnline {org.is_teams_chats_online!r}")
        for label, s in (
            ("exchangeOnlineSettings", org.exchange_online_settings),
            ("sharePointOnlineSettings", org.share_point_online_settings),
        ):
            check(isinstance(s, RESTOffice365ConnectionSettingsType0), f"{label} missing: {s!r}")
            check(s.account == self.args.m365_account, f"{label}.account {s.account!r}")
            check(unset(s.password), f"{label}.password is present")
        check(not unset(org.field_links), "_links missing")
        check("self" in org.field_links, f"_links has no self: {org.field_links.additional_keys}")
        href = org.field_links["self"].href
        want = f"/v6/organizations/{org.id}"
        check(
            isinstance(href, str) and href.lower() == want,
            f"_links.self.href {href!r} != {want!r} (case-insensitively)",
        )

    def assert_links(self, obj: Any, label: str, *names: str) -> None:
        links = obj.field_links
        check(not unset(links), f"{label}: _links missing")
        for name in ("self", *names):
            check(name in links, f"{label}: _links has no {name}: {links.additional_keys}")
        for name in links.additional_keys:
            href = links[name].href
            check(isinstance(href, str) and href.startswith("/v6/"), f"{label}: _links.{name}.href {href!r}")

    def assert_org_link(self, obj: Any, label: str) -> None:
        self.assert_links(obj, label, "organization")
        href = obj.field_links["organization"].href
        want = f"/v6/organizations/{self.need_org()}"
        check(href.lower() == want, f"{label}: _links.organization.href {href!r} != {want!r} (case-insensitively)")

    def assert_self(self, obj: Any, label: str, segment: str, id_: Any) -> None:
        """_links.self names the object: .../{segment}/{id} (decoded, case-insensitively)."""
        href = obj.field_links["self"].href
        want = f"/{segment}/{id_}".lower()
        check(
            urllib.parse.unquote(href.split("?")[0]).lower().endswith(want),
            f"{label}: _links.self.href {href!r} does not end with {want!r}",
        )

    def page(self, r: Any, cls: type, label: str, *, offset: int = 0, limit: int | None = None) -> Any:
        """Checks a PageOf... response and returns the parsed page."""
        check(status_of(r) == 200, f"{label}: {describe(r)}")
        self.no_secrets(r)
        p = r.parsed
        check(isinstance(p, cls), f"{label}: not a {cls.__name__}: {p!r}")
        check(p.offset == offset, f"{label}: offset {p.offset!r} != {offset}")
        # The schema: "The default value is *30*."
        want_limit = 30 if limit is None else limit
        check(p.limit == want_limit, f"{label}: limit {p.limit!r} != {want_limit}")
        check(isinstance(p.set_id, uuid.UUID), f"{label}: setId {p.set_id!r}")
        check(isinstance(p.results, list), f"{label}: results {p.results!r}")
        check(len(p.results) <= p.limit, f"{label}: {len(p.results)} results > limit {p.limit}")
        total = p.total_count
        check(isinstance(total, int) and not isinstance(total, bool), f"{label}: totalCount {total!r}")
        if offset < total:
            check(
                len(p.results) == min(p.limit, total - offset),
                f"{label}: {len(p.results)} results at offset {offset} of {total} with limit {p.limit}",
            )
        else:
            check(p.results == [], f"{label}: results past totalCount {total}")
        self.assert_org_link(p, label)
        more = offset + len(p.results) < total
        check(
            ("next" in p.field_links) == more,
            f"{label}: _links.next present={'next' in p.field_links}, more={more}",
        )
        check(("previous" in p.field_links) == (offset > 0), f"{label}: _links.previous at offset {offset}")
        return p

    async def page_through(
        self, label: str, fn: Callable[..., Awaitable[Any]], cls: type, *args: Any
    ) -> tuple[Any, list[Any]]:
        """Lists with limit=2, then pages on with the first page's setId; returns (first page, all results)."""
        limit = 2
        r = await self.need_vc().call(fn, *args, limit=limit, offset=0)
        first = self.page(r, cls, f"{label} offset 0", limit=limit)
        results = list(first.results)
        offset = limit
        while offset < first.total_count:
            r = await self.need_vc().call(fn, *args, limit=limit, offset=offset, set_id=first.set_id)
            p = self.page(r, cls, f"{label} offset {offset}", offset=offset, limit=limit)
            check(p.set_id == first.set_id, f"{label} offset {offset}: setId {p.set_id} != {first.set_id}")
            check(
                p.total_count == first.total_count,
                f"{label} offset {offset}: totalCount {p.total_count} != {first.total_count}",
            )
            results.extend(p.results)
            offset += limit
            check(offset < 10_000, f"{label}: runaway paging")
        check(
            len(results) == first.total_count,
            f"{label}: {len(results)} results != totalCount {first.total_count}",
        )
        return first, results

    def need_users(self) -> list[RESTUser]:
        check(bool(self.users), "no users (the list users step failed or found none)")
        return self.users  # type: ignore[return-value]

    def need_groups(self) -> list[RESTGroup]:
        check(bool(self.groups), "no groups (the list groups step failed or found none)")
        return self.groups  # type: ignore[return-value]

    def need_sites(self) -> list[RESTSite]:
        check(bool(self.sites), "no sites (the list sites step failed or found none)")
        return self.sites  # type: ignore[return-value]

    def assert_user(self, u: Any, label: str) -> None:
        check(isinstance(u, RESTUser), f"{label}: not a RESTUser: {u!r}")
        check(isinstance(u.id, str) and u.id, f"{label}: id {u.id!r}")
        check(isinstance(u.name, str) and UPN.match(u.name), f"{label}: name {u.name!r} is not a UPN")
        check(isinstance(u.display_name, str) and u.display_name, f"{label}: displayName {u.display_name!r}")
        check(not unset(u.type_), f"{label}: type missing")
        check(not unset(u.location_type), f"{label}: locationType missing")
        self.assert_org_link(u, f"{label} {u.id}")
        self.assert_self(u, label, "users", u.id)

    def assert_group(self, g: Any, label: str) -> None:
        check(isinstance(g, RESTGroup), f"{label}: not a RESTGroup: {g!r}")
        check(isinstance(g.id, str) and g.id, f"{label}: id {g.id!r}")
        check(isinstance(g.display_name, str) and g.display_name, f"{label}: displayName {g.display_name!r}")
        check(isinstance(g.name, str) and g.name, f"{label}: name {g.name!r}")
        check(not unset(g.type_), f"{label}: type missing")
        check(not unset(g.location_type), f"{label}: locationType missing")
        self.assert_org_link(g, f"{label} {g.id}")
        self.assert_self(g, label, "groups", g.id)

    def assert_site(self, s: Any, label: str) -> None:
        check(isinstance(s, RESTSite), f"{label}: not a RESTSite: {s!r}")
        check(isinstance(s.id, str) and s.id, f"{label}: id {s.id!r}")
        check(isinstance(s.url, str) and s.url.startswith("https://"), f"{label}: url {s.url!r}")
        check(isinstance(s.title, str) and s.title, f"{label}: title {s.title!r}")
        check(isinstance(s.is_cloud, bool), f"{label}: isCloud {s.is_cloud!r}")
        check(isinstance(s.is_personal, bool), f"{label}: isPersonal {s.is_personal!r}")
        self.assert_org_link(s, f"{label} {s.id}")
        self.assert_self(s, label, "sites", s.id)

    def assert_team(self, t: Any, label: str) -> None:
        check(isinstance(t, RESTTeam), f"{label}: not a RESTTeam: {t!r}")
        check(isinstance(t.id, uuid.UUID), f"{label}: id {t.id!r}")
        check(isinstance(t.display_name, str) and t.display_name, f"{label}: displayName {t.display_name!r}")
        check(isinstance(t.mail, str) and "@" in t.mail, f"{label}: mail {t.mail!r}")
        self.assert_org_link(t, f"{label} {t.id}")
        self.assert_self(t, label, "teams", t.id)

    # ------------------------------------------------------------------ steps

    async def discover(self) -> str:
        version = await detect_api_version(
            self.args.base_url, verify_ssl=self.ssl_context, versions=["v6", "v7", "v8"]
        )
        check(version == "v6", f"detect_api_version returned {version!r}, expected 'v6'")
        return "detect_api_version -> v6"

    async def token_password(self) -> str:
        client = Client(base_url=self.args.base_url, verify_ssl=self.ssl_context)
        async with client:
            body = TokenDataBody(
                grant_type=TokenDataBodyGrantType.PASSWORD,
                username=self.args.username,
                password=self.password,
            )
            r = await token_api.asyncio_detailed(client=client, body=body)
        check(status_of(r) == 200, describe(r))
        t = r.parsed
        check(isinstance(t, OAuthTokenResponse), f"not an OAuthTokenResponse: {t!r}")
        check(t.token_type.lower() == "bearer", f"token_type {t.token_type!r}")
        check(t.user_name == self.args.username, f"userName {t.user_name!r}")
        check(t.expires_in > 0, f"expires_in {t.expires_in!r}")
        check(t.expires > t.issued, f".expires {t.expires} is not after .issued {t.issued}")
        check(bool(t.access_token) and bool(t.refresh_token), "empty token")
        self.no_secrets(r)
        self.token = t
        return f"expires_in={t.expires_in}"

    async def token_json(self) -> str:
        # The schema also allows the token request as application/json.
        client = Client(base_url=self.args.base_url, verify_ssl=self.ssl_context)
        async with client:
            body = TokenJsonBody(
                grant_type=TokenJsonBodyGrantType.PASSWORD,
                username=self.args.username,
                password=self.password,
            )
            r = await token_api.asyncio_detailed(client=client, body=body)
        check(status_of(r) == 200, describe(r))
        check(isinstance(r.parsed, OAuthTokenResponse), f"not an OAuthTokenResponse: {r.parsed!r}")
        check(r.parsed.user_name == self.args.username, f"userName {r.parsed.user_name!r}")
        self.no_secrets(r)
        return "application/json body"

    async def token_wrong_password(self) -> str:
        vc = VeeamClient(
            host=self.args.base_url,
            username=self.args.username,
            password=self.password + "-wrong",
            api_version="v6",
            verify_ssl=self.ssl_context,
        )
        try:
            await vc.connect()
        except VeeamAuthenticationError as err:
            return str(err)
        finally:
            await vc.close()
        raise CheckFailed("a wrong password was accepted")

    async def connect(self) -> str:
        self.vc = VeeamClient(
            host=self.args.base_url,
            username=self.args.username,
            password=self.password,
            api_version="v6",
            verify_ssl=self.ssl_context,
        )
        await self.vc.connect()
        return "VeeamClient.connect"

    async def service_instance(self) -> str:
        r = await self.need_vc().call(service_instance_get.asyncio_detailed)
        check(status_of(r) == 200, describe(r))
        si = r.parsed
        check(isinstance(si, RESTServiceInstance), f"not a RESTServiceInstance: {si!r}")
        check(isinstance(si.installation_id, uuid.UUID), f"installationId {si.installation_id!r}")
        check(isinstance(si.version, str) and si.version, f"version {si.version!r}")
        return f"version {si.version}"

    async def refresh(self) -> str:
        check(self.token is not None, "no token (the password grant step failed)")
        client = Client(base_url=self.args.base_url, verify_ssl=self.ssl_context)
        async with client:
            body = TokenDataBody(
                grant_type=TokenDataBodyGrantType.REFRESH_TOKEN,
                refresh_token=self.token.refresh_token,
            )
            r = await token_api.asyncio_detailed(client=client, body=body)
        check(status_of(r) == 200, describe(r))
        t = r.parsed
        check(isinstance(t, OAuthTokenResponse), f"not an OAuthTokenResponse: {t!r}")
        check(t.user_name == self.args.username, f"userName {t.user_name!r}")
        check(t.access_token != self.token.access_token, "the refreshed access token is the old one")
        self.no_secrets(r)
        # The new access token must work.
        authed = AuthenticatedClient(base_url=self.args.base_url, token=t.access_token, verify_ssl=self.ssl_context)
        async with authed:
            r2 = await service_instance_get.asyncio_detailed(client=authed)
        check(status_of(r2) == 200, f"ServiceInstance with the refreshed token: {describe(r2)}")
        return "refreshed token accepted"

    async def add_wrong_password(self) -> str:
        body = RestOrganizationComposed(
            type_=RestOrganizationType.OFFICE365,
            region=RestOrganizationRegion.WORLDWIDE,
            is_exchange_online=True,
            is_share_point_online=True,
            is_teams_chats_online=False,
            exchange_online_settings=self.settings(self.args.m365_wrong_password),
            share_point_online_settings=self.settings(self.args.m365_wrong_password),
        )
        r = await self.need_vc().call(organization_add.asyncio_detailed, body=body)
        check(400 <= status_of(r) < 500, f"expected a 4xx: {describe(r)}")
        check(isinstance(r.parsed, RESTExceptionInfo), f"not a RESTExceptionInfo: {r.parsed!r}")
        check(isinstance(r.parsed.message, str) and r.parsed.message, f"no message: {describe(r)}")
        self.no_secrets(r)
        return f"HTTP {status_of(r)}: {r.parsed.message}"

    async def add(self) -> str:
        # The seed page's request body, plus isTeamsOnline so that the update has something to change.
        body = RestOrganizationComposed(
            type_=RestOrganizationType.OFFICE365,
            region=RestOrganizationRegion.WORLDWIDE,
            is_exchange_online=True,
            is_share_point_online=True,
            is_teams_online=True,
            is_teams_chats_online=False,
            share_point_online_settings=self.settings(self.m365_password),
            exchange_online_settings=self.settings(self.m365_password),
        )
        r = await self.need_vc().call(organization_add.asyncio_detailed, body=body)
        check(status_of(r) == 200, describe(r))
        if isinstance(r.parsed, RestOrganizationComposed) and isinstance(r.parsed.id, uuid.UUID):
            self.org_id = r.parsed.id  # the later steps can run even if an assertion below fails
        self.no_secrets(r)
        self.assert_org(r.parsed, teams=True)
        return f"id {self.org_id}"

    async def list_(self) -> str:
        org_id = self.need_org()
        r = await self.need_vc().call(organization_get.asyncio_detailed)
        check(status_of(r) == 200, describe(r))
        self.no_secrets(r)
        check(isinstance(r.parsed, list), f"not a list: {r.parsed!r}")
        found = [o for o in r.parsed if isinstance(o, RestOrganizationComposed) and o.id == org_id]
        check(len(found) == 1, f"{org_id} is listed {len(found)} times: {describe(r)}")
        self.assert_org(found[0], teams=True)
        return f"{len(r.parsed)} organization(s)"

    async def get(self) -> str | None:
        org_id = self.need_org()
        r = await self.need_vc().call(organization_get_by_id.asyncio_detailed, org_id)
        check(status_of(r) == 200, describe(r))
        self.no_secrets(r)
        self.assert_org(r.parsed, teams=True)
        check(r.parsed.id == org_id, f"id {r.parsed.id} != {org_id}")
        return None

    async def users_list(self) -> str:
        org_id = self.need_org()
        r = await self.need_vc().call(organization_user_get.asyncio_detailed, org_id, limit=10_000)
        p = self.page(r, PageOfRESTUser, "GET Users", limit=10_000)
        check(p.results, "no users")
        for u in p.results:
            self.assert_user(u, "user")
        ids = [u.id for u in p.results]
        check(len(set(ids)) == len(ids), f"duplicate user ids: {ids}")
        self.users = p.results
        # The default page.
        r = await self.need_vc().call(organization_user_get.asyncio_detailed, org_id)
        d = self.page(r, PageOfRESTUser, "GET Users (default limit)")
        check(d.total_count == p.total_count, f"totalCount {d.total_count} != {p.total_count}")
        return f"{p.total_count} user(s)"

    async def users_paging(self) -> str:
        org_id = self.need_org()
        users = self.need_users()
        first, results = await self.page_through(
            "GET Users", organization_user_get.asyncio_detailed, PageOfRESTUser, org_id
        )
        for u in results:
            self.assert_user(u, "user")
        ids = [u.id for u in results]
        check(len(set(ids)) == len(ids), f"a user is visited twice: {sorted(ids)}")
        want = sorted(u.id for u in users)
        check(sorted(ids) == want, f"paged users {sorted(ids)} != listed users {want}")
        # A page from the cache again: the same set, the same entries.
        r = await self.need_vc().call(
            organization_user_get.asyncio_detailed, org_id, limit=2, offset=0, set_id=first.set_id
        )
        again = self.page(r, PageOfRESTUser, "GET Users again", limit=2)
        check(again.set_id == first.set_id, f"setId {again.set_id} != {first.set_id}")
        check(
            [u.to_dict() for u in again.results] == [u.to_dict() for u in first.results],
            "the first page read again from the set differs",
        )
        return f"limit=2: {len(ids)} user(s) once each, setId {first.set_id}"

    async def user_get(self) -> str:
        org_id = self.need_org()
        checked = 0
        for u in self.need_users():
            r = await self.need_vc().call(organization_user_get_by_id.asyncio_detailed, org_id, u.id)
            check(status_of(r) == 200, f"GET Users/{u.id}: {describe(r)}")
            self.no_secrets(r)
            self.assert_user(r.parsed, f"GET Users/{u.id}")
            check(
                r.parsed.to_dict() == u.to_dict(),
                f"GET Users/{u.id} {r.parsed.to_dict()} != list entry {u.to_dict()}",
            )
            checked += 1
        return f"{checked} user(s) equal their list entries"

    async def user_unknown(self) -> str:
        org_id = self.need_org()
        bogus = str(uuid.uuid4())
        r = await self.need_vc().call(organization_user_get_by_id.asyncio_detailed, org_id, bogus)
        check(status_of(r) == 404, describe(r))
        check(isinstance(r.parsed, RESTExceptionInfo), f"not a RESTExceptionInfo: {r.parsed!r}")
        check(isinstance(r.parsed.message, str) and r.parsed.message, f"no message: {describe(r)}")
        self.no_secrets(r)
        return f"404: {r.parsed.message}"

    async def onedrives(self) -> str:
        org_id = self.need_org()
        with_drive = 0
        fetched = None
        for u in self.need_users():
            label = f"GET Users/{u.id}/OneDrives"
            r = await self.need_vc().call(organization_user_one_drive_get_page.asyncio_detailed, org_id, u.id)
            p = self.page(r, PageOfRESTOneDrive, label)
            check(len(p.results) in (0, 1), f"{label}: {len(p.results)} OneDrives")
            check(p.total_count == len(p.results), f"{label}: totalCount {p.total_count} != {len(p.results)}")
            if not p.results:
                continue
            with_drive += 1
            d = p.results[0]
            check(isinstance(d, RESTOneDrive), f"{label}: not a RESTOneDrive: {d!r}")
            check(isinstance(d.id, str) and d.id, f"{label}: id {d.id!r}")
            check(isinstance(d.name, str) and d.name, f"{label}: name {d.name!r}")
            check(isinstance(d.url, str) and d.url.startswith("https://"), f"{label}: url {d.url!r}")
            self.assert_links(d, f"{label} {d.id}", "organization")
            self.assert_self(d, label, "onedrives", d.id)
            r = await self.need_vc().call(
                organization_user_one_drive_get_one.asyncio_detailed, org_id, u.id, d.id
            )
            check(status_of(r) == 200, f"{label}/{d.id}: {describe(r)}")
            self.no_secrets(r)
            check(isinstance(r.parsed, RESTOneDrive), f"{label}/{d.id}: not a RESTOneDrive: {r.parsed!r}")
            check(
                r.parsed.to_dict() == d.to_dict(),
                f"{label}/{d.id}: {r.parsed.to_dict()} != list entry {d.to_dict()}",
            )
            fetched = d.url
        check(with_drive > 0, "no user has a OneDrive")
        return f"{with_drive} of {len(self.need_users())} user(s) have a OneDrive, e.g. {fetched}"

    async def groups_list(self) -> str:
        org_id = self.need_org()
        r = await self.need_vc().call(organization_group_get.asyncio_detailed, org_id, limit=10_000)
        p = self.page(r, PageOfRESTGroup, "GET Groups", limit=10_000)
        check(p.results, "no groups")
        for g in p.results:
            self.assert_group(g, "group")
        ids = [g.id for g in p.results]
        check(len(set(ids)) == len(ids), f"duplicate group ids: {ids}")
        self.groups = p.results
        _, paged = await self.page_through(
            "GET Groups", organization_group_get.asyncio_detailed, PageOfRESTGroup, org_id
        )
        check(sorted(g.id for g in paged) == sorted(ids), f"paged groups {[g.id for g in paged]} != {ids}")
        return f"{p.total_count} group(s): " + ", ".join(f"{g.display_name} ({g.type_.value})" for g in p.results)

    async def group_get(self) -> str:
        org_id = self.need_org()
        for g in self.need_groups():
            r = await self.need_vc().call(organization_group_get_by_id.asyncio_detailed, org_id, g.id)
            check(status_of(r) == 200, f"GET Groups/{g.id}: {describe(r)}")
            self.no_secrets(r)
            self.assert_group(r.parsed, f"GET Groups/{g.id}")
            check(
                r.parsed.to_dict() == g.to_dict(),
                f"GET Groups/{g.id} {r.parsed.to_dict()} != list entry {g.to_dict()}",
            )
        return f"{len(self.need_groups())} group(s) equal their list entries"

    async def group_members(self) -> str:
        org_id = self.need_org()
        user_names = {u.name.lower() for u in self.need_users()}
        counts = []
        for g in self.need_groups():
            label = f"GET Groups/{g.id}/Members"
            r = await self.need_vc().call(organization_group_member_get.asyncio_detailed, org_id, g.id)
            p = self.page(r, PageOfRESTGroupMember, label)
            for m in p.results:
                check(isinstance(m, RESTGroupMember), f"{label}: not a RESTGroupMember: {m!r}")
                check(isinstance(m.name, str) and m.name, f"{label}: name {m.name!r}")
                check(not unset(m.type_), f"{label}: type missing: {m.to_dict()}")
                check(isinstance(m.is_cloud, bool), f"{label}: isCloud {m.is_cloud!r}")
                check(isinstance(m.login, str) and m.login, f"{label}: login {m.login!r}")
                if m.type_ == RESTGroupMemberType.USER:
                    check(UPN.match(m.login), f"{label}: login {m.login!r} is not a UPN")
                    check(m.login.lower() in user_names, f"{label}: member {m.login!r} is not among the users")
                self.assert_links(m, f"{label} {m.login}")
            logins = [m.login for m in p.results]
            check(len(set(logins)) == len(logins), f"{label}: duplicate members {logins}")
            counts.append(len(p.results))
        check(sum(counts) > 0, "no group has members")
        return "members per group: " + ", ".join(map(str, counts))

    async def teams(self) -> str:
        org_id = self.need_org()
        groups = {g.id.lower(): g for g in self.need_groups()}
        r = await self.need_vc().call(organization_team_get.asyncio_detailed, org_id, limit=10_000)
        p = self.page(r, PageOfRESTTeam, "GET Teams", limit=10_000)
        check(p.results, "no teams")
        for t in p.results:
            self.assert_team(t, "team")
            g = groups.get(str(t.id).lower())
            check(g is not None, f"team {t.id} is not among the groups {sorted(groups)}")
            check(g.type_ == RESTGroupType.OFFICE365, f"team {t.id}: its group has type {g.type_!r}")
            check(
                t.display_name == g.display_name,
                f"team {t.id}: displayName {t.display_name!r} != group {g.display_name!r}",
            )
            r = await self.need_vc().call(organization_team_get_by_id.asyncio_detailed, org_id, str(t.id))
            check(status_of(r) == 200, f"GET Teams/{t.id}: {describe(r)}")
            self.no_secrets(r)
            self.assert_team(r.parsed, f"GET Teams/{t.id}")
            check(
                r.parsed.to_dict() == t.to_dict(),
                f"GET Teams/{t.id} {r.parsed.to_dict()} != list entry {t.to_dict()}",
            )
        # displayName filters.
        name = p.results[0].display_name
        r = await self.need_vc().call(organization_team_get.asyncio_detailed, org_id, display_name=name)
        f = self.page(r, PageOfRESTTeam, f"GET Teams?displayName={name}")
        check(
            any(t.id == p.results[0].id for t in f.results),
            f"displayName={name!r} does not find {p.results[0].id}",
        )
        return f"{p.total_count} team(s): " + ", ".join(t.display_name for t in p.results)

    async def sites_list(self) -> str:
        org_id = self.need_org()
        r = await self.need_vc().call(organization_site_get.asyncio_detailed, org_id, limit=10_000)
        p = self.page(r, PageOfRESTSite, "GET Sites", limit=10_000)
        check(p.results, "no sites")
        for s in p.results:
            self.assert_site(s, "site")
        ids = [s.id for s in p.results]
        check(len(set(ids)) == len(ids), f"duplicate site ids: {ids}")
        self.sites = p.results
        r = await self.need_vc().call(
            organization_site_get.asyncio_detailed, org_id, limit=10_000, include_personal_sites=True
        )
        withp = self.page(r, PageOfRESTSite, "GET Sites?includePersonalSites=true", limit=10_000)
        check(set(ids) <= {s.id for s in withp.results}, "includePersonalSites=true lost sites")
        personal = [s for s in withp.results if s.is_personal]
        return f"{p.total_count} site(s), {len(personal)} personal with includePersonalSites"

    async def site_get(self) -> str:
        org_id = self.need_org()
        sites = self.need_sites()
        check(any("," in s.id for s in sites), f"no site id contains a comma: {[s.id for s in sites]}")
        for s in sites:
            # The generated client quotes the id (commas become %2C).
            r = await self.need_vc().call(organization_site_get_by_id.asyncio_detailed, org_id, s.id)
            check(status_of(r) == 200, f"GET Sites/{s.id}: {describe(r)}")
            self.no_secrets(r)
            self.assert_site(r.parsed, f"GET Sites/{s.id}")
            check(
                r.parsed.to_dict() == s.to_dict(),
                f"GET Sites/{s.id} {r.parsed.to_dict()} != list entry {s.to_dict()}",
            )
        return f"{len(sites)} site(s) equal their list entries, e.g. {sites[0].id}"

    async def licensing(self) -> str:
        org_id = self.need_org()
        r = await self.need_vc().call(organization_licensing_information_get_license_count.asyncio_detailed, org_id)
        check(status_of(r) == 200, describe(r))
        self.no_secrets(r)
        li = r.parsed
        check(
            isinstance(li, RESTOrganizationLicensingInformation),
            f"not a RESTOrganizationLicensingInformation: {li!r}",
        )
        for label, v in (("licensedUsers", li.licensed_users), ("newUsers", li.new_users)):
            check(isinstance(v, int) and not isinstance(v, bool) and v >= 0, f"{label} {v!r}")
        return f"licensedUsers={li.licensed_users}, newUsers={li.new_users}"

    async def update(self) -> str:
        org_id = self.need_org()
        # No password: the stored one is kept.
        body = RestOrganizationComposed(
            type_=RestOrganizationType.OFFICE365,
            region=RestOrganizationRegion.WORLDWIDE,
            is_exchange_online=True,
            is_share_point_online=True,
            is_teams_online=False,
            is_teams_chats_online=False,
            exchange_online_settings=self.settings(None),
            share_point_online_settings=self.settings(None),
        )
        r = await self.need_vc().call(organization_update.asyncio_detailed, org_id, body=body)
        check(status_of(r) == 204, describe(r))
        check(r.content == b"", f"204 with a body: {r.content!r}")
        return "isTeamsOnline -> false"

    async def get_updated(self) -> str:
        org_id = self.need_org()
        r = await self.need_vc().call(organization_get_by_id.asyncio_detailed, org_id)
        check(status_of(r) == 200, describe(r))
        self.no_secrets(r)
        self.assert_org(r.parsed, teams=False)
        return "isTeamsOnline is false"

    async def remove(self) -> str | None:
        org_id = self.need_org()
        r = await self.need_vc().call(organization_remove.asyncio_detailed, org_id)
        check(status_of(r) == 204, describe(r))
        return None

    async def gone(self) -> str:
        org_id = self.need_org()
        r = await self.need_vc().call(organization_get_by_id.asyncio_detailed, org_id)
        check(status_of(r) == 404, describe(r))
        check(isinstance(r.parsed, RESTExceptionInfo), f"not a RESTExceptionInfo: {r.parsed!r}")
        check(isinstance(r.parsed.message, str) and r.parsed.message, f"no message: {describe(r)}")
        r2 = await self.need_vc().call(organization_get.asyncio_detailed)
        check(status_of(r2) == 200, describe(r2))
        check(all(o.id != org_id for o in r2.parsed), "still listed after removal")
        return f"404: {r.parsed.message}"

    # ------------------------------------------------------------------ repositories

    def need(self, value: Any, what: str) -> Any:
        check(value is not None, f"no {what} (an earlier step failed)")
        return value

    async def proxies(self) -> str:
        r = await self.need_vc().call(proxy_get_proxies.asyncio_detailed)
        check(status_of(r) == 200, describe(r))
        check(isinstance(r.parsed, list) and len(r.parsed) == 1, f"one proxy expected: {describe(r)}")
        p = r.parsed[0]
        check(isinstance(p, RESTProxy), f"not a RESTProxy: {p!r}")
        check(p.type_.value == "Local", f"type {p.type_!r}")
        check(p.port == 9193 and p.threads_number == 64, f"port {p.port!r} threads {p.threads_number!r}")
        check(p.status.value == "Online", f"status {p.status!r}")
        self.proxy_id = p.id
        r2 = await self.need_vc().call(proxy_get_proxy.asyncio_detailed, p.id)
        check(status_of(r2) == 200, describe(r2))
        check(r2.parsed.to_dict() == p.to_dict(), f"{r2.parsed.to_dict()} != {p.to_dict()}")
        r3 = await self.need_vc().call(proxy_get_proxies.asyncio_detailed, extended_view=False)
        check(status_of(r3) == 200 and unset(r3.parsed[0].threads_number), describe(r3))
        return f"Local proxy {p.id} on {p.host_name}"

    def repository_body(self, name: str, **extra: Any) -> RESTBackupRepositoryFromClient:
        body = {"name": name, "description": "compat check", "retentionType": "SnapshotBased",
                "retentionPeriodType": "Monthly", "monthlyRetentionPeriod": 3,
                "retentionFrequencyType": "Daily", "dailyTime": "12:00:00", "dailyType": "Everyday"}
        body.update(extra)
        return RESTBackupRepositoryFromClient.from_dict(body)

    async def repository_add(self) -> str:
        self.work_dir = tempfile.mkdtemp(prefix="openvbo-compat-")
        path = os.path.join(self.work_dir, "local", "repo1")
        body = self.repository_body("Compat local", path=path, proxyId=str(self.need(self.proxy_id, "proxy")))
        r = await self.need_vc().call(backup_repository_add.asyncio_detailed, body=body)
        check(status_of(r) == 200, describe(r))
        self.no_secrets(r)
        repo = r.parsed
        check(isinstance(repo, RESTBackupRepository), f"not a RESTBackupRepository: {repo!r}")
        self.repo_id = repo.id
        check(repo.path == path and repo.name == "Compat local", f"{repo.to_dict()}")
        check(repo.proxy_id == self.proxy_id, f"proxyId {repo.proxy_id!r}")
        check(repo.monthly_retention_period == 3 and repo.daily_time == "12:00:00", f"{repo.to_dict()}")
        check(isinstance(repo.capacity_bytes, int) and repo.capacity_bytes > 0, f"capacityBytes {repo.capacity_bytes!r}")
        check(isinstance(repo.free_space_bytes, int) and 0 < repo.free_space_bytes <= repo.capacity_bytes,
              f"freeSpaceBytes {repo.free_space_bytes!r}")
        check(os.path.isfile(os.path.join(path, "config")), "no repository was created at the path")
        return f"{repo.id}: {repo.free_space_bytes} of {repo.capacity_bytes} bytes free"

    async def repository_list_get(self) -> str:
        repo_id = self.need(self.repo_id, "repository")
        r = await self.need_vc().call(backup_repository_get_repositories.asyncio_detailed, proxy_id=self.proxy_id)
        check(status_of(r) == 200, describe(r))
        check([x.id for x in r.parsed] == [repo_id], f"{describe(r)}")
        r0 = await self.need_vc().call(backup_repository_get_repositories.asyncio_detailed, proxy_id=uuid.uuid4())
        check(status_of(r0) == 200 and r0.parsed == [], describe(r0))
        r2 = await self.need_vc().call(backup_repository_get_repositories_by_id.asyncio_detailed, repo_id)
        check(status_of(r2) == 200 and r2.parsed.id == repo_id, describe(r2))
        return "proxyId filter and GET by id agree"

    async def repository_update(self) -> str:
        repo_id = self.need(self.repo_id, "repository")
        body = self.repository_body("Compat renamed", retentionPeriodType="Daily", dailyRetentionPeriod=30)
        r = await self.need_vc().call(backup_repository_update_repository.asyncio_detailed, repo_id, body=body)
        check(status_of(r) == 200, describe(r))
        r2 = await self.need_vc().call(backup_repository_get_repositories_by_id.asyncio_detailed, repo_id)
        check(r2.parsed.name == "Compat renamed" and r2.parsed.daily_retention_period == 30, describe(r2))
        bad = self.repository_body("Compat renamed", retentionType="ItemLevel")
        r3 = await self.need_vc().call(backup_repository_update_repository.asyncio_detailed, repo_id, body=bad)
        check(status_of(r3) == 400 and isinstance(r3.parsed, RESTExceptionInfo), describe(r3))
        return f"renamed; retentionType change refused: {r3.parsed.message}"

    async def repository_remove(self) -> str:
        repo_id = self.need(self.repo_id, "repository")
        r = await self.need_vc().call(backup_repository_remove.asyncio_detailed, repo_id)
        check(status_of(r) == 204, describe(r))
        r2 = await self.need_vc().call(backup_repository_get_repositories_by_id.asyncio_detailed, repo_id)
        check(status_of(r2) == 404 and isinstance(r2.parsed, RESTExceptionInfo), describe(r2))
        return "404 afterwards; the data stays on disk"

    async def key_add(self) -> str:
        body = RESTEncryptionKeyToSend.from_dict({"password": self.key_password, "description": "compat key"})
        r = await self.need_vc().call(encryption_key_add_encryption_key.asyncio_detailed, body=body)
        check(status_of(r) == 200, describe(r))
        self.no_secrets(r)
        check(isinstance(r.parsed, RESTEncryptionKey) and r.parsed.description == "compat key", describe(r))
        self.key_id = r.parsed.id
        r2 = await self.need_vc().call(encryption_key_get_encryption_key.asyncio_detailed, description="compat")
        check(status_of(r2) == 200 and [k.id for k in r2.parsed] == [self.key_id], describe(r2))
        r3 = await self.need_vc().call(encryption_key_get_encryption_key_by_id.asyncio_detailed, self.key_id)
        check(status_of(r3) == 200 and r3.parsed.id == self.key_id, describe(r3))
        self.no_secrets(r3)
        return f"{self.key_id}"

    async def account_add(self) -> str:
        body = RESTCredentialToSend.from_dict({"accountType": "amazonS3CompatibleAccount", "userName": "compat-access",
                                               "password": self.s3_secret, "description": "moto"})
        r = await self.need_vc().call(account_add_credential.asyncio_detailed, body=body)
        check(status_of(r) == 201, describe(r))
        self.no_secrets(r)
        check(isinstance(r.parsed, RESTCredential) and r.parsed.user_name == "compat-access", describe(r))
        self.account_id = r.parsed.id
        r2 = await self.need_vc().call(account_get_credentials.asyncio_detailed, name="compat-access")
        check(status_of(r2) == 200 and [a.id for a in r2.parsed] == [self.account_id], describe(r2))
        r3 = await self.need_vc().call(account_get_credential.asyncio_detailed, self.account_id)
        check(status_of(r3) == 200 and r3.parsed.description == "moto", describe(r3))
        upd = RESTCredentialToSend.from_dict({"description": "moto (renamed)"})
        r4 = await self.need_vc().call(account_update_credential.asyncio_detailed, self.account_id, body=upd)
        check(status_of(r4) == 200, describe(r4))
        return f"201 {self.account_id}"

    def start_s3(self) -> str:
        """moto_server on a free port with a bucket (it does not check signatures)."""
        if self.s3_endpoint:
            return self.s3_endpoint
        binary = os.environ.get("OPENVBO_MOTO_SERVER") or shutil.which("moto_server")
        check(binary is not None, "moto_server is missing: pip install 'moto[server]' or set OPENVBO_MOTO_SERVER (.ci/run does)")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.moto = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(f"{endpoint}/compat-bucket", method="PUT"), timeout=2)
                break
            except OSError:
                check(time.monotonic() < deadline, "moto_server did not start within 30 s")
                time.sleep(0.1)
        self.s3_endpoint = endpoint
        return endpoint

    async def object_storage_add(self) -> str:
        endpoint = self.start_s3()
        account = self.need(self.account_id, "account")
        body = RESTObjectStorageRepositoryComposed.from_dict({
            "name": "Compat S3", "description": "Created with REST", "type": "AmazonS3Compatible",
            "accountId": str(account),
            "amazonBucketS3Compatible": {"servicePoint": endpoint, "customRegionId": "us-east-1", "name": "compat-bucket"},
            "s3Folder": "RESTStorageFolder", "sizeLimitEnabled": True, "sizeLimitGB": 1024})
        r = await self.need_vc().call(object_storage_repository_add_object_storage_repository.asyncio_detailed, body=body)
        check(status_of(r) == 200, describe(r))
        self.no_secrets(r)
        os_ = r.parsed
        check(isinstance(os_, RESTObjectStorageRepositoryComposed), f"not composed: {os_!r}")
        check(os_.amazon_bucket_s3_compatible.name == "compat-bucket" and os_.s_3_folder == "RESTStorageFolder", describe(r))
        check(os_.size_limit_gb == 1024 and os_.account_id == account, describe(r))
        self.storage_id = os_.id
        r2 = await self.need_vc().call(object_storage_repository_get_object_repository.asyncio_detailed, os_.id)
        check(status_of(r2) == 200 and r2.parsed.id == os_.id, describe(r2))
        r3 = await self.need_vc().call(object_storage_repository_get_object_storage_repositories.asyncio_detailed)
        check(status_of(r3) == 200 and [x.id for x in r3.parsed] == [os_.id], describe(r3))
        wrong = body.to_dict()
        wrong["name"] = "Compat S3 missing bucket"
        wrong["amazonBucketS3Compatible"]["name"] = "no-such-bucket"
        r4 = await self.need_vc().call(object_storage_repository_add_object_storage_repository.asyncio_detailed,
                                       body=RESTObjectStorageRepositoryComposed.from_dict(wrong))
        check(status_of(r4) == 400 and isinstance(r4.parsed, RESTExceptionInfo), describe(r4))
        return f"{os_.id}; a missing bucket is refused: {r4.parsed.message}"

    async def s3_browse(self) -> str:
        endpoint = self.start_s3()
        account = self.need(self.account_id, "account")
        q = {"account_id": account, "service_point": endpoint, "custom_region_id": "us-east-1"}
        r = await self.need_vc().call(amazon_s3_compatible_object_storage_get_buckets.asyncio_detailed, name="compat-bucket", **q)
        check(status_of(r) == 200 and isinstance(r.parsed[0], RESTAmazonBucketS3Compatible), describe(r))
        check([b.name for b in r.parsed] == ["compat-bucket"], describe(r))
        r2 = await self.need_vc().call(amazon_s3_compatible_object_storage_add_folder.asyncio_detailed, "compat-bucket",
                                       body=RESTAmazonFolderToSend(name="CompatFolder"), **q)
        check(status_of(r2) == 200 and isinstance(r2.parsed, RESTAmazonFolderToReceiveS3Compatible), describe(r2))
        r3 = await self.need_vc().call(amazon_s3_compatible_object_storage_get_folders.asyncio_detailed, "compat-bucket", **q)
        check(status_of(r3) == 200, describe(r3))
        names = sorted(f.name for f in r3.parsed)
        check("CompatFolder" in names, f"folders {names}")
        return f"folders {names}"

    async def s3_repository(self) -> str:
        storage = self.need(self.storage_id, "object storage repository")
        key = self.need(self.key_id, "encryption key")
        work = self.work_dir or tempfile.mkdtemp(prefix="openvbo-compat-")
        body = self.repository_body("Compat S3 repo", objectStorageId=str(storage),
                                    objectStorageCachePath=os.path.join(work, "cache"),
                                    objectStorageEncryptionEnabled=True, encryptionKeyId=str(key))
        r = await self.need_vc().call(backup_repository_add.asyncio_detailed, body=body)
        check(status_of(r) == 200, describe(r))
        self.no_secrets(r)
        check(r.parsed.object_storage_id == storage and r.parsed.encryption_key_id == key, describe(r))
        check(r.parsed.object_storage_encryption_enabled is True, describe(r))
        self.s3_repo_id = r.parsed.id
        # In use: the key, the storage and the account cannot be removed.
        r2 = await self.need_vc().call(encryption_key_remove_encryption_key.asyncio_detailed, key)
        check(status_of(r2) == 409 and isinstance(r2.parsed, RESTExceptionInfo), describe(r2))
        return f"{r.parsed.id}; removing its key refused: {r2.parsed.message}"

    async def s3_cleanup(self) -> str:
        vc = self.need_vc()
        for what, fn, id_, code in (
            ("repository", backup_repository_remove, self.s3_repo_id, 204),
            ("object storage", object_storage_repository_remove_object_storage_repository, self.storage_id, 204),
            ("account", account_remove_credential, self.account_id, 204),
            ("encryption key", encryption_key_remove_encryption_key, self.key_id, 204),
        ):
            self.need(id_, what)
            r = await vc.call(fn.asyncio_detailed, id_)
            check(status_of(r) == code, f"removing the {what}: {describe(r)}")
        return "repository, object storage, account and key removed (204 each)"

    async def run(self) -> int:
        steps = [
            ("discover the API version", self.discover),
            ("token: password grant", self.token_password),
            ("token: password grant as JSON", self.token_json),
            ("token: wrong password refused", self.token_wrong_password),
            ("VeeamClient login", self.connect),
            ("GET ServiceInstance", self.service_instance),
            ("token: refresh_token grant", self.refresh),
            ("POST Organizations with a wrong M365 password refused", self.add_wrong_password),
            ("POST Organizations (seed body)", self.add),
            ("GET Organizations lists it", self.list_),
            ("GET Organizations/{id}", self.get),
            ("GET Organizations/{id}/Users", self.users_list),
            ("GET Users pages with limit=2 and setId", self.users_paging),
            ("GET Users/{id} equals the list entry", self.user_get),
            ("GET Users/{unknown id} is 404", self.user_unknown),
            ("GET Users/{id}/OneDrives and OneDrives/{id}", self.onedrives),
            ("GET Organizations/{id}/Groups", self.groups_list),
            ("GET Groups/{id} equals the list entry", self.group_get),
            ("GET Groups/{id}/Members", self.group_members),
            ("GET Teams and Teams/{id}; each team is an Office365 group", self.teams),
            ("GET Organizations/{id}/Sites", self.sites_list),
            ("GET Sites/{id} (the id contains commas)", self.site_get),
            ("GET Organizations/{id}/LicensingInformation", self.licensing),
            ("PUT Organizations/{id} without passwords", self.update),
            ("GET Organizations/{id} shows the update", self.get_updated),
            ("DELETE Organizations/{id}", self.remove),
            ("GET Organizations/{id} after delete is 404", self.gone),
            ("GET Proxies: the Local proxy", self.proxies),
            ("POST BackupRepositories on a local path", self.repository_add),
            ("GET BackupRepositories (proxyId) and /{id}", self.repository_list_get),
            ("PUT BackupRepositories/{id}; retentionType change refused", self.repository_update),
            ("DELETE BackupRepositories/{id}", self.repository_remove),
            ("POST/GET EncryptionKeys", self.key_add),
            ("POST Accounts answers 201; GET and PUT", self.account_add),
            ("POST objectstoragerepositories (moto); a missing bucket refused", self.object_storage_add),
            ("S3CompatibleResources: buckets, add folder, folders", self.s3_browse),
            ("POST BackupRepositories extended with object storage, encrypted", self.s3_repository),
            ("DELETE repository, object storage, account, key", self.s3_cleanup),
            *self.backup_steps(),
            *self.restore_steps(),
        ]
        try:
            for name, fn in steps:
                await self.step(name, fn)
        finally:
            if self.vc is not None:
                await self.vc.close()
            if self.moto is not None:
                self.moto.kill()
                self.moto.wait()
            if self.work_dir:
                shutil.rmtree(self.work_dir, ignore_errors=True)
            if self.backup_dir:
                shutil.rmtree(self.backup_dir, ignore_errors=True)
            if self.restore_dir:
                shutil.rmtree(self.restore_dir, ignore_errors=True)
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base-url", required=True, help="e.g. https://localhost:4443")
    p.add_argument("--ca", required=True, help="PEM file to verify the server certificate with")
    p.add_argument("--username", default="admin")
    p.add_argument("--m365-account", default="admin@contoso-demo.onmicrosoft.com")
    p.add_argument("--m365-wrong-password", default="Not-The-Passw0rd!")
    p.add_argument("--expected-name", default="contoso-demo.onmicrosoft.com")
    p.add_argument("--sim-url", help="the Microsoft 365 simulator (its Graph is read to check restores)")
    args = p.parse_args()

    password = os.environ.get("OPENVBO_COMPAT_PASSWORD")
    if not password:
        print("OPENVBO_COMPAT_PASSWORD is not set", file=sys.stderr)
        return 2
    m365_password = os.environ.get("OPENVBO_COMPAT_M365_PASSWORD", "Demo-Passw0rd!")
    return asyncio.run(Checker(args, password, m365_password).run())


if __name__ == "__main__":
    sys.exit(main())
