-- PostgreSQL form of ../0016_attachment_kind.sql: the same schema in PostgreSQL's dialect.
-- 0016: a ticket's attachments are photos or voice recordings (issue 13, 适老化: a voice message
-- without a transcript is kept by its platform id, like a photo). The table keeps its name;
-- rows written before this migration are photos, which the default says.
ALTER TABLE ticket_photos ADD COLUMN kind TEXT NOT NULL DEFAULT 'photo' CHECK (kind IN ('photo', 'voice'));
