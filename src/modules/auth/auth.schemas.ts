// The accounts API's requests and responses. Password rules beyond "a string of bounded length"
// live in the policy (src/modules/auth/passwords.ts), which names every rule broken at once.
// Request bodies are strict objects: an unknown field (a `role` at sign-up) is refused with 422,
// not silently dropped, as docs/accounts-and-access.md promises.
import { z } from '@hono/zod-openapi';
import { selfUserSchema } from '../users/user-serializer.ts';

/** Generous: the policy refuses over 128 characters with a clear rule; this only bounds the body. */
const passwordField = z.string().min(1).max(1024);

const emailField = z
  .email()
  .max(254)
  .transform((email) => email.toLowerCase())
  .openapi({ example: 'ada@example.com', description: 'Compared without regard to case.' });

// The examples are bodies each route accepts as they are (the password passes the policy), so a
// client can send them to try an operation.
const examplePassword = 'Quartz#Meadow7Lantern';
const exampleToken = 'pX9vT2mQ7rL4sW8nK1cB6dF3hJ5gY0aZuE_oI-tRkMs';

const tokenField = z
  .string()
  .min(1)
  .max(512)
  .openapi({ description: 'The token from the link in the email.' });

export const sessionModeQuerySchema = z.object({
  mode: z
    .enum(['bearer', 'cookie'])
    .default('bearer')
    .openapi({
      param: { name: 'mode', in: 'query' },
      description:
        'bearer (default): the tokens are in the body. cookie: they are set as httpOnly, Secure, ' +
        'SameSite cookies and left out of the body.',
    }),
});

export const registerBodySchema = z
  .strictObject({
    email: emailField,
    name: z.string().trim().min(1).max(100).openapi({ example: 'Ada Lovelace' }),
    password: passwordField.openapi({ example: examplePassword }),
  })
  .openapi('RegisterRequest', {
    example: { email: 'ada@example.com', name: 'Ada Lovelace', password: examplePassword },
  });

export const loginBodySchema = z
  .strictObject({ email: emailField, password: passwordField })
  .openapi('LoginRequest', { example: { email: 'ada@example.com', password: examplePassword } });

export const refreshBodySchema = z
  .strictObject({
    refreshToken: z.string().min(1).max(512).optional().openapi({
      description: 'Bearer mode. In cookie mode leave it out: the refresh cookie is used.',
    }),
  })
  .openapi('RefreshRequest', { example: { refreshToken: exampleToken } });

export const logoutBodySchema = z
  .strictObject({
    refreshToken: z.string().min(1).max(512).optional().openapi({
      description: "The session's refresh token (bearer mode); revoked with the access token.",
    }),
  })
  .openapi('LogoutRequest', { example: { refreshToken: exampleToken } });

export const tokenBodySchema = z
  .strictObject({ token: tokenField })
  .openapi('EmailTokenRequest', { example: { token: exampleToken } });

export const forgotPasswordBodySchema = z
  .strictObject({ email: emailField })
  .openapi('ForgotPasswordRequest', { example: { email: 'ada@example.com' } });

export const resetPasswordBodySchema = z
  .strictObject({ token: tokenField, password: passwordField })
  .openapi('ResetPasswordRequest', {
    example: { token: exampleToken, password: 'Ember!Harbor42Violet' },
  });

export const changePasswordBodySchema = z
  .strictObject({ currentPassword: passwordField, newPassword: passwordField })
  .openapi('ChangePasswordRequest', {
    example: { currentPassword: examplePassword, newPassword: 'Ember!Harbor42Violet' },
  });

export const deleteAccountBodySchema = z
  .strictObject({
    password: passwordField.openapi({ description: 'The current password, to confirm.' }),
  })
  .openapi('DeleteAccountRequest', { example: { password: examplePassword } });

const sessionSchema = z
  .object({
    accessToken: z.string().optional().openapi({ description: 'Bearer mode only.' }),
    accessTokenExpiresAt: z.iso.datetime(),
    refreshToken: z.string().optional().openapi({ description: 'Bearer mode only.' }),
    refreshTokenExpiresAt: z.iso.datetime(),
    csrfToken: z
      .string()
      .optional()
      .openapi({
        description:
          'Cookie mode only: send it back in the X-CSRF-Token header of every unsafe request ' +
          "(also readable from the __Host-csrf cookie by a page on the API's own origin).",
      }),
  })
  .openapi('Session');

export const signedInSchema = z
  .object({ user: selfUserSchema, session: sessionSchema })
  .openapi('SignedIn');

/** What refresh answers: the session alone, in the same place sign-in and registration put it. */
export const refreshedSchema = z.object({ session: sessionSchema }).openapi('Refreshed');

export const acceptedSchema = z.object({ message: z.string() }).openapi('Accepted');
