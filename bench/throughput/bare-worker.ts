// The baseline on workerd: Hono answering a constant JSON, no middleware, no backend. Built by
// wrangler like the real Worker (the same bundling and minifying), then loaded the same way.
import { Hono } from 'hono';

const body = {
  success: true,
  data: { id: '00000000-0000-4000-8000-000000000000', name: 'Bench User' },
};

const app = new Hono();
app.get('/v1/users/:id', (c) => c.json(body));

export default app;
