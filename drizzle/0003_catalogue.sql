CREATE TABLE `products` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`owner_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`category` text NOT NULL,
	`price_amount` integer NOT NULL,
	`price_currency` text NOT NULL,
	`stock` integer DEFAULT 0 NOT NULL,
	`tags` text DEFAULT '[]' NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`updated_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `products_id_unique` ON `products` (`id`);--> statement-breakpoint
CREATE INDEX `products_created_idx` ON `products` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `products_owner_created_idx` ON `products` (`owner_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `products_category_created_idx` ON `products` (`category`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `products_price_idx` ON `products` (`price_amount`,`id`);--> statement-breakpoint
ALTER TABLE `partners` ADD `webhook_url` text;--> statement-breakpoint
ALTER TABLE `partners` ADD `subscribed_events` text DEFAULT '[]' NOT NULL;