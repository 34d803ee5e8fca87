-- openvbo configuration store, SQLite dialect.
-- Timestamps are INTEGER unix milliseconds (UTC). Booleans are 0/1.
-- Never edit a migration once released: sqlx checks their checksums.

CREATE TABLE meta (
    key   TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- NOCASE folds ASCII only; administrator names are ASCII in practice.
CREATE TABLE admins (
    user_name     TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    password_hash TEXT NOT NULL
) WITHOUT ROWID;

-- Sessions are not tied to admins by a foreign key: administrators are never
-- deleted, and set_admin_password revokes sessions explicitly.
CREATE TABLE sessions (
    id        TEXT NOT NULL PRIMARY KEY,
    user_name TEXT NOT NULL COLLATE NOCASE,
    issued_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX sessions_by_user_name ON sessions (user_name);

CREATE TABLE tokens (
    hash       TEXT NOT NULL PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    CHECK (used_at IS NULL OR kind = 'refresh')
) WITHOUT ROWID;

CREATE INDEX tokens_by_session_id ON tokens (session_id);
CREATE INDEX tokens_by_expires_at ON tokens (expires_at);

-- Tenant ids are GUIDs; compared case-insensitively so that one tenant
-- cannot be added twice under two spellings.
CREATE TABLE organizations (
    id                    TEXT NOT NULL PRIMARY KEY,
    tenant_id             TEXT NOT NULL COLLATE NOCASE UNIQUE,
    name                  TEXT NOT NULL,
    office_name           TEXT NOT NULL,
    display_name          TEXT NOT NULL,
    region                TEXT NOT NULL,
    is_teams_online       INTEGER NOT NULL CHECK (is_teams_online IN (0, 1)),
    is_teams_chats_online INTEGER NOT NULL CHECK (is_teams_chats_online IN (0, 1)),
    revision              INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX organizations_by_created_at ON organizations (created_at, id);

-- service is not CHECK-constrained: adding a service later must not need a
-- table rebuild. Unknown keys are reported as corrupt when read.
CREATE TABLE organization_accounts (
    organization_id                  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    service                          TEXT NOT NULL,
    account                          TEXT NOT NULL,
    password                         BLOB NOT NULL,
    grant_admin_access               INTEGER NOT NULL CHECK (grant_admin_access IN (0, 1)),
    use_custom_veeam_aad_application INTEGER NOT NULL CHECK (use_custom_veeam_aad_application IN (0, 1)),
    share_point_save_all_web_parts   INTEGER NOT NULL CHECK (share_point_save_all_web_parts IN (0, 1)),
    PRIMARY KEY (organization_id, service)
) WITHOUT ROWID;
