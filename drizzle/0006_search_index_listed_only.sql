-- The search index holds listed products only, and their category as a column of its own, so a
-- search without other filters is answered by the index alone: its ranking, its page and its total
-- never read a deleted product or join a row only to throw it away, and a category narrows the
-- match itself (one category is a twentieth of the catalogue; stock or currency would barely
-- narrow it and cost more to intersect than to check). Searched words are confined to name,
-- description and tags, so no text matches a category. A product leaves the index when it is
-- deleted or its owner is, and comes back with a restore. Prefix indexes of 3 characters serve
-- type-ahead.
DROP TRIGGER `products_fts_insert`;
--> statement-breakpoint
DROP TRIGGER `products_fts_delete`;
--> statement-breakpoint
DROP TRIGGER `products_fts_update`;
--> statement-breakpoint
DROP TABLE `products_fts`;
--> statement-breakpoint
CREATE VIRTUAL TABLE `products_fts` USING fts5(
	name, description, tags, category,
	tokenize = 'unicode61 remove_diacritics 2',
	prefix = '3'
);
--> statement-breakpoint
CREATE VIEW `products_fts_source` AS
	SELECT p.seq AS rowid, p.name, p.description,
		(SELECT coalesce(group_concat(value, ' '), '') FROM json_each(p.tags)) AS tags,
		p.category, p.owner_id
	FROM `products` p JOIN `users` u ON u.id = p.owner_id
	WHERE p.deleted_at IS NULL AND u.deleted_at IS NULL;
--> statement-breakpoint
INSERT INTO `products_fts` (rowid, name, description, tags, category)
	SELECT rowid, name, description, tags, category FROM `products_fts_source`;
--> statement-breakpoint
CREATE TRIGGER `products_fts_insert` AFTER INSERT ON `products` BEGIN
	INSERT INTO `products_fts` (rowid, name, description, tags, category)
	SELECT rowid, name, description, tags, category FROM `products_fts_source`
	WHERE rowid = new.seq;
END;
--> statement-breakpoint
CREATE TRIGGER `products_fts_delete` AFTER DELETE ON `products` BEGIN
	DELETE FROM `products_fts` WHERE rowid = old.seq;
END;
--> statement-breakpoint
CREATE TRIGGER `products_fts_update`
AFTER UPDATE OF name, description, tags, category, owner_id, deleted_at
ON `products` BEGIN
	DELETE FROM `products_fts` WHERE rowid = old.seq;
	INSERT INTO `products_fts` (rowid, name, description, tags, category)
	SELECT rowid, name, description, tags, category FROM `products_fts_source`
	WHERE rowid = new.seq;
END;
--> statement-breakpoint
CREATE TRIGGER `products_fts_owner_deleted` AFTER UPDATE OF deleted_at ON `users`
WHEN old.deleted_at IS NULL AND new.deleted_at IS NOT NULL BEGIN
	DELETE FROM `products_fts` WHERE rowid IN (SELECT seq FROM `products` WHERE owner_id = new.id);
END;
--> statement-breakpoint
CREATE TRIGGER `products_fts_owner_restored` AFTER UPDATE OF deleted_at ON `users`
WHEN old.deleted_at IS NOT NULL AND new.deleted_at IS NULL BEGIN
	INSERT INTO `products_fts` (rowid, name, description, tags, category)
	SELECT rowid, name, description, tags, category FROM `products_fts_source`
	WHERE owner_id = new.id;
END;
