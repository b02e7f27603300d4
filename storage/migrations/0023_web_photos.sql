-- 0023: photos uploaded in the staff workplace (办结 with a photo). They have no platform id, so
-- their bytes live here; ticket_photos keeps them as channel 'web', ref = this row's id, and the
-- outbox uploads them to the resident's platform like a photo taken on another platform.
-- Erasure and retention delete them with the ticket's other photos (storage/privacy.py).
CREATE TABLE web_photos (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    content_type TEXT NOT NULL,
    data BLOB NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX web_photos_ticket ON web_photos (ticket_id);
