// serializeUser is the one place that decides which of a user's fields leave the server: each
// viewer sees exactly its fields, and no secret ever does, whatever the row carries.
import { describe, expect, it } from 'vitest';
import type { UserRow } from '../../src/db/schema.ts';
import {
  adminUserSchema,
  publicUserSchema,
  selfUserSchema,
  serializeUser,
} from '../../src/modules/users/user-serializer.ts';

const row: UserRow = {
  id: '00000000-0000-4000-8000-0000000000aa',
  email: 'grace@example.com',
  name: 'Grace Hopper',
  role: 'user',
  passwordHash: 'pbkdf2-sha256$100000$c2FsdA==$aGFzaA==',
  passwordChangedAt: new Date('2026-02-02T00:00:00.000Z'),
  emailVerifiedAt: new Date('2026-01-02T00:00:00.000Z'),
  createdAt: new Date('2026-01-01T00:00:00.000Z'),
  updatedAt: new Date('2026-03-03T00:00:00.000Z'),
  deletedAt: null,
  avatar: null,
};

describe('serializeUser', () => {
  it('shows the public id, name, avatar and creation date only', () => {
    expect(serializeUser(row, 'public')).toEqual({
      id: row.id,
      name: 'Grace Hopper',
      avatar: null,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('shows a ready avatar as its file id, where its bytes are, its type and its size', () => {
    const avatar = { id: '00000000-0000-4000-8000-0000000000bb', type: 'image/jpeg', size: 2048 };
    expect(serializeUser({ ...row, avatar }, 'public').avatar).toEqual({
      id: avatar.id,
      url: `/v1/files/${avatar.id}/content`,
      type: 'image/jpeg',
      size: 2048,
    });
  });

  it('shows users their email, role and verification state too', () => {
    expect(serializeUser(row, 'self')).toEqual({
      id: row.id,
      name: 'Grace Hopper',
      avatar: null,
      email: 'grace@example.com',
      role: 'user',
      emailVerified: true,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-03-03T00:00:00.000Z',
    });
    expect(serializeUser({ ...row, emailVerifiedAt: null }, 'self').emailVerified).toBe(false);
  });

  it('shows administrators the account state, with nulls where nothing happened', () => {
    expect(serializeUser(row, 'admin')).toEqual({
      ...serializeUser(row, 'self'),
      emailVerifiedAt: '2026-01-02T00:00:00.000Z',
      passwordChangedAt: '2026-02-02T00:00:00.000Z',
      deletedAt: null,
    });
    const deleted = { ...row, deletedAt: new Date('2026-04-04T00:00:00.000Z') };
    expect(serializeUser(deleted, 'admin').deletedAt).toBe('2026-04-04T00:00:00.000Z');
  });

  it('never lets the password hash out, nor a field the views do not name', () => {
    const withExtras = { ...row, tokenHash: 'secret-token-hash', keyHash: 'secret-key-hash' };
    for (const viewer of ['public', 'self', 'admin'] as const) {
      const text = JSON.stringify(serializeUser(withExtras, viewer));
      expect(text).not.toContain('pbkdf2');
      expect(text).not.toContain('secret');
      expect(text).not.toMatch(/hash/i);
    }
  });

  it('answers exactly what the OpenAPI schema of each view describes', () => {
    expect(publicUserSchema.strict().parse(serializeUser(row, 'public'))).toBeTruthy();
    expect(selfUserSchema.strict().parse(serializeUser(row, 'self'))).toBeTruthy();
    expect(adminUserSchema.strict().parse(serializeUser(row, 'admin'))).toBeTruthy();
  });
});
