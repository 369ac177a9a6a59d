-- Full-text search over the catalogue. FTS5 keeps its own copy of the indexed text, keyed by the
-- product's seq (its rowid), so a product's entry is found by rowid, never by a scan. Tags are
-- indexed as words. Prefix indexes of 2 and 3 characters make type-ahead queries ("ch*") cheap.
-- Triggers keep the index in step with every insert, delete and change of the indexed columns;
-- soft-deleted products stay indexed and are filtered out by the search's join.
CREATE VIRTUAL TABLE `products_fts` USING fts5(
	name, description, tags,
	tokenize = 'unicode61 remove_diacritics 2',
	prefix = '2 3'
);
--> statement-breakpoint
CREATE TRIGGER `products_fts_insert` AFTER INSERT ON `products` BEGIN
	INSERT INTO `products_fts` (rowid, name, description, tags)
	VALUES (new.seq, new.name, new.description,
		(SELECT coalesce(group_concat(value, ' '), '') FROM json_each(new.tags)));
END;
--> statement-breakpoint
CREATE TRIGGER `products_fts_delete` AFTER DELETE ON `products` BEGIN
	DELETE FROM `products_fts` WHERE rowid = old.seq;
END;
--> statement-breakpoint
CREATE TRIGGER `products_fts_update` AFTER UPDATE OF name, description, tags ON `products` BEGIN
	DELETE FROM `products_fts` WHERE rowid = old.seq;
	INSERT INTO `products_fts` (rowid, name, description, tags)
	VALUES (new.seq, new.name, new.description,
		(SELECT coalesce(group_concat(value, ' '), '') FROM json_each(new.tags)));
END;
