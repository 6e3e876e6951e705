-- +goose Up
-- The SQLite form of the PostgreSQL migration of the same number; the
-- comments there explain the table and its indexes.
CREATE TABLE certification_requests (
    id                    TEXT PRIMARY KEY,
    enterprise_account_id TEXT     NOT NULL REFERENCES enterprise_accounts (id),
    requester_person_id   TEXT     NOT NULL REFERENCES persons (id),
    share_token_hash      TEXT     NOT NULL UNIQUE,
    workflow_id           TEXT     NOT NULL,
    status                TEXT     NOT NULL CHECK (status IN ('pending_consent', 'pending_verification', 'certified', 'refused', 'cancelled', 'expired', 'failed')),
    failed_verifications  INTEGER  NOT NULL DEFAULT 0,
    legal_rep_name_masked TEXT     NOT NULL,
    legal_rep_person_id   TEXT REFERENCES persons (id),
    expires_at            DATETIME NOT NULL,
    agreed_at             DATETIME,
    ended_at              DATETIME,
    created_at            DATETIME NOT NULL
);
CREATE UNIQUE INDEX certification_requests_one_open ON certification_requests (enterprise_account_id) WHERE status IN ('pending_consent', 'pending_verification');
CREATE INDEX certification_requests_account_created ON certification_requests (enterprise_account_id, created_at);
CREATE INDEX certification_requests_open_expires_at ON certification_requests (expires_at) WHERE status IN ('pending_consent', 'pending_verification');

-- +goose Down
DROP TABLE certification_requests;
