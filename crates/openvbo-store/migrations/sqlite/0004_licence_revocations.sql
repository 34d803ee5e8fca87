-- DELETE /v6/LicensedUsers/{id}: an administrator revoked a user's licence at
-- revoked_at (milliseconds since the epoch, as every time here). The user no
-- longer counts as licensed until a backup of theirs newer than that; a
-- later revocation replaces the earlier one.

CREATE TABLE licence_revocations (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL COLLATE NOCASE,
    revoked_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, user_id)
) WITHOUT ROWID;
