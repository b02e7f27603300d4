-- PostgreSQL form of ../0014_ticket_detail.sql: the same schema in PostgreSQL's dialect.
-- 0014: the flat. 「龙池花园5栋2单元302」 keeps 「2单元302」 (unit, room or any detail after the
-- building) so the handler can find the door; blanked with the other personal fields.
ALTER TABLE tickets ADD COLUMN detail TEXT NOT NULL DEFAULT '';
