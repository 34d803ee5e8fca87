#!/usr/bin/env python3
"""Compatibility check of openvbo against a client generated from the official schema.

The client is the unmodified PyPI package ``veeam-365`` (its generated ``veeam_365.v6``
package and its ``VeeamClient`` wrapper). The check walks the organization life cycle the
way an existing VB365 integration would: discover the API version, log in, read the service
instance, refresh the token, add the demo organization with basic authentication, list it,
read it, update it, remove it and confirm it is gone.

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
import ssl
import sys
import traceback
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

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
from veeam_365.v6.api.service_instance import service_instance_get
from veeam_365.v6.client import AuthenticatedClient, Client
from veeam_365.v6.models.o_auth_token_response import OAuthTokenResponse
from veeam_365.v6.models.rest_exception_info import RESTExceptionInfo
from veeam_365.v6.models.rest_office_365_connection_settings_type_0 import (
    RESTOffice365ConnectionSettingsType0,
)
from veeam_365.v6.models.rest_organization_composed import RestOrganizationComposed
from veeam_365.v6.models.rest_organization_region import RestOrganizationRegion
from veeam_365.v6.models.rest_organization_type import RestOrganizationType
from veeam_365.v6.models.rest_service_instance import RESTServiceInstance
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


class Checker:
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
        self.secrets = [s for s in (password, m365_password, args.m365_wrong_password) if s]

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
            ("PUT Organizations/{id} without passwords", self.update),
            ("GET Organizations/{id} shows the update", self.get_updated),
            ("DELETE Organizations/{id}", self.remove),
            ("GET Organizations/{id} after delete is 404", self.gone),
        ]
        try:
            for name, fn in steps:
                await self.step(name, fn)
        finally:
            if self.vc is not None:
                await self.vc.close()
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
    args = p.parse_args()

    password = os.environ.get("OPENVBO_COMPAT_PASSWORD")
    if not password:
        print("OPENVBO_COMPAT_PASSWORD is not set", file=sys.stderr)
        return 2
    m365_password = os.environ.get("OPENVBO_COMPAT_M365_PASSWORD", "Demo-Passw0rd!")
    return asyncio.run(Checker(args, password, m365_password).run())


if __name__ == "__main__":
    sys.exit(main())
