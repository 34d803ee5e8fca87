-- Backup configuration and results: proxies, repositories, object storage,
-- encryption keys, jobs, job sessions and their log, restore points and the
-- catalog. Same conventions as 0001: times are INTEGER unix milliseconds,
-- times of day INTEGER seconds since midnight, booleans 0/1, ids text UUIDs.
-- Enumerations are TEXT without CHECK, so a value added later needs no
-- table rebuild; unknown values are reported as corrupt when read.

CREATE TABLE proxies (
    id                        TEXT NOT NULL PRIMARY KEY,
    kind                      TEXT NOT NULL,
    host_name                 TEXT NOT NULL,
    description               TEXT NOT NULL,
    port                      INTEGER NOT NULL,
    threads_number            INTEGER NOT NULL,
    enable_network_throttling INTEGER NOT NULL CHECK (enable_network_throttling IN (0, 1)),
    throttling_value          INTEGER,
    throttling_unit           TEXT,
    internet_proxy_type       TEXT,
    internet_proxy_host_name  TEXT,
    internet_proxy_port       INTEGER,
    internet_proxy_use_auth   INTEGER CHECK (internet_proxy_use_auth IN (0, 1)),
    internet_proxy_user_name  TEXT,
    created_at                INTEGER NOT NULL
) WITHOUT ROWID;

-- There is one built-in proxy, whatever races to create it.
CREATE UNIQUE INDEX proxies_one_local ON proxies (kind) WHERE kind = 'Local';

CREATE TABLE object_storage_accounts (
    id           TEXT NOT NULL PRIMARY KEY,
    account_type TEXT NOT NULL,
    user_name    TEXT NOT NULL,
    secret       BLOB NOT NULL,
    description  TEXT NOT NULL,
    revision     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE object_storages (
    id                 TEXT NOT NULL PRIMARY KEY,
    name               TEXT NOT NULL COLLATE NOCASE UNIQUE,
    description        TEXT NOT NULL,
    storage_type       TEXT NOT NULL,
    account_id         TEXT NOT NULL REFERENCES object_storage_accounts (id),
    service_point      TEXT NOT NULL,
    custom_region_id   TEXT,
    bucket             TEXT NOT NULL,
    folder             TEXT NOT NULL,
    size_limit_enabled INTEGER NOT NULL CHECK (size_limit_enabled IN (0, 1)),
    size_limit_gb      INTEGER,
    revision           INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    UNIQUE (service_point, bucket, folder)
) WITHOUT ROWID;

CREATE INDEX object_storages_by_account ON object_storages (account_id);

CREATE TABLE encryption_keys (
    id            TEXT NOT NULL PRIMARY KEY,
    description   TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    key_material  BLOB NOT NULL,
    revision      INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE backup_repositories (
    id                                TEXT NOT NULL PRIMARY KEY,
    name                              TEXT NOT NULL COLLATE NOCASE UNIQUE,
    description                       TEXT NOT NULL,
    path                              TEXT NOT NULL UNIQUE,
    proxy_id                          TEXT NOT NULL REFERENCES proxies (id),
    retention_type                    TEXT NOT NULL,
    retention_period_type             TEXT NOT NULL,
    daily_retention_period            INTEGER,
    monthly_retention_period          INTEGER,
    yearly_retention_period           TEXT,
    retention_frequency_type          TEXT NOT NULL,
    daily_time                        INTEGER NOT NULL,
    daily_type                        TEXT NOT NULL,
    monthly_time                      INTEGER NOT NULL,
    monthly_daynumber                 TEXT NOT NULL,
    monthly_dayofweek                 TEXT NOT NULL,
    object_storage_id                 TEXT REFERENCES object_storages (id),
    object_storage_cache_path         TEXT,
    object_storage_encryption_enabled INTEGER NOT NULL CHECK (object_storage_encryption_enabled IN (0, 1)),
    encryption_key_id                 TEXT REFERENCES encryption_keys (id),
    is_long_term                      INTEGER NOT NULL CHECK (is_long_term IN (0, 1)),
    is_out_of_sync                    INTEGER NOT NULL CHECK (is_out_of_sync IN (0, 1)),
    key_material                      BLOB NOT NULL,
    revision                          INTEGER NOT NULL,
    created_at                        INTEGER NOT NULL,
    updated_at                        INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX backup_repositories_by_created_at ON backup_repositories (created_at, id);
CREATE INDEX backup_repositories_by_object_storage ON backup_repositories (object_storage_id);
CREATE INDEX backup_repositories_by_encryption_key ON backup_repositories (encryption_key_id);

-- Removing an organization removes its jobs (VB365 does); a repository
-- cannot be removed while a job targets it.
CREATE TABLE jobs (
    id              TEXT NOT NULL PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    repository_id   TEXT NOT NULL REFERENCES backup_repositories (id),
    name            TEXT NOT NULL,
    description     TEXT NOT NULL,
    backup_type     TEXT NOT NULL,
    schedule_policy TEXT NOT NULL CHECK (json_valid(schedule_policy)),
    is_enabled      INTEGER NOT NULL CHECK (is_enabled IN (0, 1)),
    last_run        INTEGER,
    next_run        INTEGER,
    last_status     TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX jobs_by_organization ON jobs (organization_id, created_at, id);
CREATE INDEX jobs_by_repository ON jobs (repository_id);
CREATE INDEX jobs_by_created_at ON jobs (created_at, id);
CREATE UNIQUE INDEX jobs_one_entire_organization
    ON jobs (organization_id, repository_id) WHERE backup_type = 'EntireOrganization';

CREATE TABLE job_items (
    job_id    TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    list      TEXT NOT NULL CHECK (list IN ('selected', 'excluded')),
    id        TEXT NOT NULL,
    item_type TEXT NOT NULL,
    body      TEXT NOT NULL CHECK (json_valid(body)),
    position  INTEGER NOT NULL,
    PRIMARY KEY (job_id, list, id)
) WITHOUT ROWID;

-- Sessions outlive their job (its history stays), so no foreign key.
CREATE TABLE job_sessions (
    id                       TEXT NOT NULL PRIMARY KEY,
    job_id                   TEXT NOT NULL,
    job_type                 TEXT NOT NULL,
    creation_time            INTEGER NOT NULL,
    end_time                 INTEGER,
    status                   TEXT NOT NULL,
    progress                 INTEGER NOT NULL,
    retry_count              INTEGER NOT NULL,
    details                  TEXT,
    processing_rate_bytes_ps INTEGER NOT NULL,
    processing_rate_items_ps INTEGER NOT NULL,
    read_rate_bytes_ps       INTEGER NOT NULL,
    write_rate_bytes_ps      INTEGER NOT NULL,
    transferred_data_bytes   INTEGER NOT NULL,
    processed_objects        INTEGER NOT NULL,
    bottleneck               TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX job_sessions_by_creation ON job_sessions (creation_time DESC, id DESC);
CREATE INDEX job_sessions_by_job ON job_sessions (job_id, creation_time DESC, id DESC);
-- One run of a job at a time.
CREATE UNIQUE INDEX job_sessions_one_running ON job_sessions (job_id) WHERE end_time IS NULL;

-- AUTOINCREMENT: a usn is never reused, even after the newest is deleted.
CREATE TABLE log_items (
    usn           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    session_id    TEXT NOT NULL REFERENCES job_sessions (id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    creation_time INTEGER NOT NULL,
    end_time      INTEGER
);

CREATE INDEX log_items_by_session ON log_items (session_id, usn);

-- Restore points outlive their job and organization (the backups stay).
CREATE TABLE restore_points (
    id                TEXT NOT NULL PRIMARY KEY,
    repository_id     TEXT NOT NULL,
    job_id            TEXT NOT NULL,
    job_session_id    TEXT,
    organization_id   TEXT NOT NULL,
    backup_time       INTEGER NOT NULL,
    is_exchange       INTEGER NOT NULL CHECK (is_exchange IN (0, 1)),
    is_sharepoint     INTEGER NOT NULL CHECK (is_sharepoint IN (0, 1)),
    is_onedrive       INTEGER NOT NULL CHECK (is_onedrive IN (0, 1)),
    is_teams          INTEGER NOT NULL CHECK (is_teams IN (0, 1)),
    is_long_term_copy INTEGER NOT NULL CHECK (is_long_term_copy IN (0, 1)),
    is_retrieved      INTEGER NOT NULL CHECK (is_retrieved IN (0, 1)),
    retrieval_id      TEXT
) WITHOUT ROWID;

CREATE INDEX restore_points_by_time ON restore_points (backup_time, id);
CREATE INDEX restore_points_by_job ON restore_points (job_id, backup_time);
CREATE INDEX restore_points_by_repository ON restore_points (repository_id, organization_id);

CREATE TABLE restore_point_resources (
    restore_point_id TEXT NOT NULL REFERENCES restore_points (id) ON DELETE CASCADE,
    resource_id      TEXT NOT NULL,
    kind             TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    address          TEXT NOT NULL,
    item_count       INTEGER NOT NULL,
    size_bytes       INTEGER NOT NULL,
    record           BLOB NOT NULL,
    PRIMARY KEY (restore_point_id, resource_id)
) WITHOUT ROWID;

CREATE INDEX restore_point_resources_by_resource ON restore_point_resources (resource_id);

CREATE TABLE catalog_items (
    restore_point_id TEXT NOT NULL,
    resource_id      TEXT NOT NULL,
    item_id          TEXT NOT NULL,
    parent_id        TEXT,
    kind             TEXT NOT NULL,
    name             TEXT NOT NULL,
    sender           TEXT,
    size_bytes       INTEGER NOT NULL,
    created          INTEGER,
    modified         INTEGER,
    path             TEXT NOT NULL,
    content_ref      BLOB NOT NULL,
    PRIMARY KEY (restore_point_id, resource_id, item_id),
    FOREIGN KEY (restore_point_id, resource_id)
        REFERENCES restore_point_resources (restore_point_id, resource_id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX catalog_items_by_parent
    ON catalog_items (restore_point_id, resource_id, parent_id, item_id);
