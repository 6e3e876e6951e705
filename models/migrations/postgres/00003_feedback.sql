-- +goose Up
-- In-app feedback (意见反馈) and the replies support staff write to it.
-- Content and contact are free text that often holds a mobile or ID
-- number, so both are sealed; reply text is sealed for the same reason.
CREATE TABLE feedback (
    id                    TEXT PRIMARY KEY,
    person_id             TEXT        NOT NULL REFERENCES persons (id),
    enterprise_account_id TEXT,
    content_enc           BYTEA       NOT NULL,
    contact_enc           BYTEA,
    status                TEXT        NOT NULL CHECK (status IN ('open', 'replied')),
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX feedback_person_created_at ON feedback (person_id, created_at, id);
CREATE INDEX feedback_status_created_at ON feedback (status, created_at, id);

CREATE TABLE feedback_replies (
    id          TEXT PRIMARY KEY,
    feedback_id TEXT        NOT NULL REFERENCES feedback (id) ON DELETE CASCADE,
    content_enc BYTEA       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX feedback_replies_feedback_created_at ON feedback_replies (feedback_id, created_at);

-- +goose Down
DROP TABLE feedback_replies;
DROP TABLE feedback;
