-- +goose Up
-- An agent's request that the legal representative (法定代表人) certify an
-- uncertified enterprise account (经办人企业账户认证). The legal
-- representative opens the share link, whose token is stored only as its
-- hash, agrees and passes face verification. The representative appears
-- here only as a masked name, and as a person once the request certified
-- the account. The partial unique index allows one open request per
-- account, under any number of concurrent requests.
CREATE TABLE certification_requests (
    id                    TEXT PRIMARY KEY,
    enterprise_account_id TEXT        NOT NULL REFERENCES enterprise_accounts (id),
    requester_person_id   TEXT        NOT NULL REFERENCES persons (id),
    share_token_hash      TEXT        NOT NULL UNIQUE,
    workflow_id           TEXT        NOT NULL,
    status                TEXT        NOT NULL CHECK (status IN ('pending_consent', 'pending_verification', 'certified', 'refused', 'cancelled', 'expired', 'failed')),
    failed_verifications  INTEGER     NOT NULL DEFAULT 0,
    legal_rep_name_masked TEXT        NOT NULL,
    legal_rep_person_id   TEXT REFERENCES persons (id),
    expires_at            TIMESTAMPTZ NOT NULL,
    agreed_at             TIMESTAMPTZ,
    ended_at              TIMESTAMPTZ,
    created_at            TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX certification_requests_one_open ON certification_requests (enterprise_account_id) WHERE status IN ('pending_consent', 'pending_verification');
CREATE INDEX certification_requests_account_created ON certification_requests (enterprise_account_id, created_at DESC);
CREATE INDEX certification_requests_open_expires_at ON certification_requests (expires_at) WHERE status IN ('pending_consent', 'pending_verification');

-- +goose Down
DROP TABLE certification_requests;
