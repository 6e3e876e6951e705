-- +goose Up
CREATE TABLE persons (
    id               TEXT PRIMARY KEY,
    id_type          TEXT        NOT NULL,
    id_hash          TEXT        NOT NULL UNIQUE,
    id_number_enc    BLOB       NOT NULL,
    id_number_masked TEXT        NOT NULL,
    name_enc         BLOB       NOT NULL,
    name_masked      TEXT        NOT NULL,
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL
);

CREATE TABLE face_verifications (
    id                  TEXT PRIMARY KEY,
    purpose             TEXT        NOT NULL,
    workflow_id         TEXT        NOT NULL,
    provider            TEXT        NOT NULL,
    provider_token_hash TEXT        NOT NULL UNIQUE,
    status              TEXT        NOT NULL,
    failure_code        TEXT        NOT NULL DEFAULT '',
    similarity          REAL,
    liveness_passed     INTEGER,
    expires_at          DATETIME NOT NULL,
    completed_at        DATETIME,
    created_at          DATETIME NOT NULL
);

CREATE TABLE face_logins (
    id                 TEXT PRIMARY KEY,
    verification_id    TEXT        NOT NULL REFERENCES face_verifications (id),
    client_secret_hash TEXT        NOT NULL,
    id_hash            TEXT        NOT NULL,
    status             TEXT        NOT NULL,
    failure_code       TEXT        NOT NULL DEFAULT '',
    person_id          TEXT REFERENCES persons (id),
    session_expires_at DATETIME,
    expires_at         DATETIME NOT NULL,
    completed_at       DATETIME,
    created_at         DATETIME NOT NULL
);
CREATE INDEX face_logins_id_hash_created_at ON face_logins (id_hash, created_at);
CREATE INDEX face_logins_pending_expires_at ON face_logins (expires_at) WHERE status = 'pending';

CREATE TABLE sessions (
    id                    TEXT PRIMARY KEY,
    token_hash            TEXT        NOT NULL UNIQUE,
    kind                  TEXT        NOT NULL,
    person_id             TEXT        NOT NULL REFERENCES persons (id),
    enterprise_account_id TEXT,
    expires_at            DATETIME NOT NULL,
    revoked_at            DATETIME,
    created_at            DATETIME NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE idempotency_records (
    scope_hash   TEXT PRIMARY KEY,
    request_hash TEXT        NOT NULL,
    state        TEXT        NOT NULL,
    status_code  INTEGER     NOT NULL DEFAULT 0,
    response_enc BLOB,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL
);

CREATE TABLE sandbox_face_sessions (
    token_hash         TEXT PRIMARY KEY,
    verification_id    TEXT        NOT NULL UNIQUE,
    expected_name_enc  BLOB       NOT NULL,
    expected_id_enc    BLOB       NOT NULL,
    name_masked        TEXT        NOT NULL,
    id_number_masked   TEXT        NOT NULL,
    callback_url       TEXT        NOT NULL,
    outcome            TEXT        NOT NULL DEFAULT '',
    verified_name_enc  BLOB,
    verified_id_enc    BLOB,
    decided_at         DATETIME,
    expires_at         DATETIME NOT NULL,
    created_at         DATETIME NOT NULL
);

-- +goose Down
DROP TABLE sandbox_face_sessions;
DROP TABLE idempotency_records;
DROP TABLE sessions;
DROP TABLE face_logins;
DROP TABLE face_verifications;
DROP TABLE persons;
