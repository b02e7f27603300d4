-- PostgreSQL form of ../0007_privacy.sql: the same schema in PostgreSQL's dialect.
-- 0007: privacy (PIPL). Care tags from the grid's records are sensitive personal information;
-- a resident can erase their data; closed tickets lose personal fields after the retention.

-- 重点人群 categories a grid keeps for care (空巢老人, 残疾人, 社区矫正, ...): shown only to the
-- resident themself in 我的数据, never in a group, a card or a log.
CREATE TABLE resident_tags (
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    tag TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (resident_id, tag)
);

ALTER TABLE residents ADD COLUMN erased_at TEXT;
ALTER TABLE tickets ADD COLUMN purged_at TEXT;
CREATE INDEX tickets_retention ON tickets (updated_at)
    WHERE purged_at IS NULL AND status IN ('resolved', 'closed', 'cancelled');

-- Who sent an inbox item (set when it is handled), so erasure finds a resident's raw messages.
ALTER TABLE inbox ADD COLUMN sender TEXT NOT NULL DEFAULT '';
CREATE INDEX inbox_sender ON inbox (channel, sender) WHERE sender != '';
CREATE INDEX inbox_retention ON inbox (processed_at) WHERE payload != '' AND status = 'done';
CREATE INDEX outbox_retention ON outbox (created_at) WHERE payload != '{}';

-- The audit log keeps every row; only a free-text note may be blanked (erasure, retention).
DROP TRIGGER ticket_events_no_update ON ticket_events;
CREATE FUNCTION ticket_events_redact_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ticket_events is append-only: only a note may be redacted'
        USING ERRCODE = 'restrict_violation';  -- an integrity error, as SQLite's ABORT
END;
$$;
CREATE TRIGGER ticket_events_redact_only BEFORE UPDATE ON ticket_events
    FOR EACH ROW
    WHEN (NEW.note != '' OR NEW.id IS DISTINCT FROM OLD.id OR NEW.ticket_id IS DISTINCT FROM OLD.ticket_id
          OR NEW.at IS DISTINCT FROM OLD.at OR NEW.actor_kind IS DISTINCT FROM OLD.actor_kind
          OR NEW.actor_id IS DISTINCT FROM OLD.actor_id OR NEW.action IS DISTINCT FROM OLD.action
          OR NEW.data IS DISTINCT FROM OLD.data)
    EXECUTE FUNCTION ticket_events_redact_only();
