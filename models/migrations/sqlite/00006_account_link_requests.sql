-- +goose Up
-- The SQLite form of the PostgreSQL migration of the same number; the
-- comments there explain the table and its indexes.
CREATE TABLE account_link_requests (
    id                    TEXT PRIMARY KEY,
    enterprise_account_id TEXT     NOT NULL REFERENCES enterprise_accounts (id),
    requester_person_id   TEXT     NOT NULL REFERENCES persons (id),
    workflow_id           TEXT     NOT NULL,
    status                TEXT     NOT NULL CHECK (status IN ('pending_approval', 'approved', 'rejected', 'cancelled', 'expired')),
    decided_by            TEXT REFERENCES persons (id),
    expires_at            DATETIME NOT NULL,
    created_at            DATETIME NOT NULL,
    ended_at              DATETIME
);
CREATE UNIQUE INDEX account_link_requests_one_open ON account_link_requests (enterprise_account_id, requester_person_id) WHERE status = 'pending_approval';
CREATE INDEX account_link_requests_account_created ON account_link_requests (enterprise_account_id, created_at);
CREATE INDEX account_link_requests_pending_expires_at ON account_link_requests (expires_at) WHERE status = 'pending_approval';

-- +goose Down
DROP TABLE account_link_requests;
