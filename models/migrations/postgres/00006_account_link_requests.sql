-- +goose Up
-- A person's request to become an agent (经办人) of an existing certified
-- enterprise account, which the account's applicant approves or rejects
-- (关联他人的企业账号). decided_by is the person who approved, rejected or
-- cancelled it, and stays NULL for an expiry. The partial unique index
-- allows one open request per requester and account, under any number of
-- concurrent requests.
CREATE TABLE account_link_requests (
    id                    TEXT PRIMARY KEY,
    enterprise_account_id TEXT        NOT NULL REFERENCES enterprise_accounts (id),
    requester_person_id   TEXT        NOT NULL REFERENCES persons (id),
    workflow_id           TEXT        NOT NULL,
    status                TEXT        NOT NULL CHECK (status IN ('pending_approval', 'approved', 'rejected', 'cancelled', 'expired')),
    decided_by            TEXT REFERENCES persons (id),
    expires_at            TIMESTAMPTZ NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    ended_at              TIMESTAMPTZ
);
CREATE UNIQUE INDEX account_link_requests_one_open ON account_link_requests (enterprise_account_id, requester_person_id) WHERE status = 'pending_approval';
CREATE INDEX account_link_requests_account_created ON account_link_requests (enterprise_account_id, created_at DESC);
CREATE INDEX account_link_requests_pending_expires_at ON account_link_requests (expires_at) WHERE status = 'pending_approval';

-- +goose Down
DROP TABLE account_link_requests;
