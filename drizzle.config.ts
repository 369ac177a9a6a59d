// drizzle-kit: `npm run db:generate` turns src/db/schema.ts into a new SQL migration in drizzle/.
// Generating needs no database; the credentials serve drizzle-kit's own commands (studio, check)
// and default to the local stack's libSQL server.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'turso',
  schema: './src/db/schema.ts',
  out: './drizzle',
  dbCredentials: {
    url: process.env.TURSO_DATABASE_URL ?? 'http://127.0.0.1:8080',
    authToken: process.env.TURSO_AUTH_TOKEN ?? 'local-turso-token',
  },
});
