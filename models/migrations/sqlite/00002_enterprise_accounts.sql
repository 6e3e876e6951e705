-- +goose Up
-- The SQLite form of the PostgreSQL migration of the same number; the
-- comments there explain each table.
CREATE TABLE enterprise_accounts (
    id                     TEXT PRIMARY KEY,
    uscc                   TEXT     NOT NULL,
    enterprise_name        TEXT     NOT NULL,
    trust_level            TEXT     NOT NULL CHECK (trust_level IN ('certified', 'uncertified')),
    applicant_person_id    TEXT     NOT NULL REFERENCES persons (id),
    login_name             TEXT UNIQUE,
    password_hash          TEXT,
    credentials_updated_at DATETIME,
    certified_at           DATETIME,
    created_at             DATETIME NOT NULL,
    updated_at             DATETIME NOT NULL,
    CONSTRAINT enterprise_accounts_one_per_applicant UNIQUE (uscc, applicant_person_id)
);

CREATE TABLE memberships (
    id                    TEXT PRIMARY KEY,
    enterprise_account_id TEXT     NOT NULL REFERENCES enterprise_accounts (id),
    person_id             TEXT     NOT NULL REFERENCES persons (id),
    role                  TEXT     NOT NULL CHECK (role IN ('applicant', 'legal_representative', 'agent')),
    via                   TEXT     NOT NULL CHECK (via IN ('registration', 'invitation', 'certification', 'link_approval')),
    authorized_by         TEXT REFERENCES persons (id),
    authorized_at         DATETIME NOT NULL,
    revoked_at            DATETIME,
    revoked_by            TEXT REFERENCES persons (id)
);
CREATE UNIQUE INDEX memberships_current_role ON memberships (enterprise_account_id, person_id, role) WHERE revoked_at IS NULL;
CREATE INDEX memberships_current_person ON memberships (person_id) WHERE revoked_at IS NULL;

CREATE TABLE login_attempts (
    login_name_hash TEXT PRIMARY KEY,
    failures        INTEGER  NOT NULL DEFAULT 0,
    locked_until    DATETIME,
    updated_at      DATETIME NOT NULL
);

-- detail holds JSON text; SQLite has no JSON column type.
CREATE TABLE audit_events (
    id                    TEXT PRIMARY KEY,
    enterprise_account_id TEXT     NOT NULL REFERENCES enterprise_accounts (id),
    actor_person_id       TEXT REFERENCES persons (id),
    action                TEXT     NOT NULL,
    subject_person_id     TEXT REFERENCES persons (id),
    detail                TEXT     NOT NULL DEFAULT '{}',
    created_at            DATETIME NOT NULL
);
CREATE INDEX audit_events_account_newest ON audit_events (enterprise_account_id, created_at DESC, id DESC);

-- SQLite stores booleans as 0 and 1.
ALTER TABLE sessions ADD COLUMN password_login INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_enterprise_account ON sessions (enterprise_account_id) WHERE enterprise_account_id IS NOT NULL;

-- +goose Down
DROP INDEX sessions_enterprise_account;
ALTER TABLE sessions DROP COLUMN password_login;
DROP TABLE audit_events;
DROP TABLE login_attempts;
DROP TABLE memberships;
DROP TABLE enterprise_accounts;
