-- +goose Up
-- An enterprise account (企业账号) registered by one applicant for one
-- enterprise. The unique constraints, not application code, guarantee one
-- account per applicant per enterprise and unique login names, so they hold
-- for concurrent requests on any number of API processes.
CREATE TABLE enterprise_accounts (
    id                     TEXT PRIMARY KEY,
    uscc                   TEXT        NOT NULL,
    enterprise_name        TEXT        NOT NULL,
    trust_level            TEXT        NOT NULL CHECK (trust_level IN ('certified', 'uncertified')),
    applicant_person_id    TEXT        NOT NULL REFERENCES persons (id),
    login_name             TEXT UNIQUE,
    password_hash          TEXT,
    credentials_updated_at TIMESTAMPTZ,
    certified_at           TIMESTAMPTZ,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    CONSTRAINT enterprise_accounts_one_per_applicant UNIQUE (uscc, applicant_person_id)
);

-- One row per role a person holds in an account. A revoked row stays as
-- history; the partial index allows one current row per person and role.
CREATE TABLE memberships (
    id                    TEXT PRIMARY KEY,
    enterprise_account_id TEXT        NOT NULL REFERENCES enterprise_accounts (id),
    person_id             TEXT        NOT NULL REFERENCES persons (id),
    role                  TEXT        NOT NULL CHECK (role IN ('applicant', 'legal_representative', 'agent')),
    via                   TEXT        NOT NULL CHECK (via IN ('registration', 'invitation', 'certification', 'link_approval')),
    authorized_by         TEXT REFERENCES persons (id),
    authorized_at         TIMESTAMPTZ NOT NULL,
    revoked_at            TIMESTAMPTZ,
    revoked_by            TEXT REFERENCES persons (id)
);
CREATE UNIQUE INDEX memberships_current_role ON memberships (enterprise_account_id, person_id, role) WHERE revoked_at IS NULL;
CREATE INDEX memberships_current_person ON memberships (person_id) WHERE revoked_at IS NULL;

-- Failed password logins per login name, keyed by a keyed hash of the name
-- so that names nobody registered are not stored in clear.
CREATE TABLE login_attempts (
    login_name_hash TEXT PRIMARY KEY,
    failures        INTEGER     NOT NULL DEFAULT 0,
    locked_until    TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- Who did what to an account. detail is a small JSON object of ids, codes
-- and flags, never personal data.
CREATE TABLE audit_events (
    id                    TEXT PRIMARY KEY,
    enterprise_account_id TEXT        NOT NULL REFERENCES enterprise_accounts (id),
    actor_person_id       TEXT REFERENCES persons (id),
    action                TEXT        NOT NULL,
    subject_person_id     TEXT REFERENCES persons (id),
    detail                JSONB       NOT NULL DEFAULT '{}',
    created_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_events_account_newest ON audit_events (enterprise_account_id, created_at DESC, id DESC);

-- Sessions from 法人账号 password login may not change credentials or
-- switch accounts; those need a face-verified session.
ALTER TABLE sessions ADD COLUMN password_login BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX sessions_enterprise_account ON sessions (enterprise_account_id) WHERE enterprise_account_id IS NOT NULL;

-- +goose Down
DROP INDEX sessions_enterprise_account;
ALTER TABLE sessions DROP COLUMN password_login;
DROP TABLE audit_events;
DROP TABLE login_attempts;
DROP TABLE memberships;
DROP TABLE enterprise_accounts;
