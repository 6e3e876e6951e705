-- +goose Up
-- An invitation from the legal representative to one person to become an
-- agent (经办人) of an enterprise account. The invitee is stored as a keyed
-- hash for lookups and as masked forms for display; the share token only as
-- its hash. The partial unique index allows one pending invitation per
-- person and account, under any number of concurrent requests.
CREATE TABLE agent_invitations (
    id                       TEXT PRIMARY KEY,
    enterprise_account_id    TEXT        NOT NULL REFERENCES enterprise_accounts (id),
    inviter_person_id        TEXT        NOT NULL REFERENCES persons (id),
    invitee_id_type          TEXT        NOT NULL,
    invitee_id_hash          TEXT        NOT NULL,
    invitee_name_masked      TEXT        NOT NULL,
    invitee_id_number_masked TEXT        NOT NULL,
    mobile_enc               BYTEA,
    share_token_hash         TEXT        NOT NULL UNIQUE,
    workflow_id              TEXT        NOT NULL,
    status                   TEXT        NOT NULL CHECK (status IN ('pending', 'accepted', 'revoked', 'expired', 'failed')),
    failed_verifications     INTEGER     NOT NULL DEFAULT 0,
    agent_person_id          TEXT REFERENCES persons (id),
    expires_at               TIMESTAMPTZ NOT NULL,
    ended_at                 TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX agent_invitations_one_pending ON agent_invitations (enterprise_account_id, invitee_id_hash) WHERE status = 'pending';
CREATE INDEX agent_invitations_account_created ON agent_invitations (enterprise_account_id, created_at DESC);
CREATE INDEX agent_invitations_pending_expires_at ON agent_invitations (expires_at) WHERE status = 'pending';

-- +goose Down
DROP TABLE agent_invitations;
