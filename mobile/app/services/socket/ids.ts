import * as Crypto from 'expo-crypto';

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** A client-made message id (UUID v4): lets the server drop a re-sent message. */
export function makeClientId(): string {
  return Crypto.randomUUID();
}

/**
 * The device's `client_key`: 32 characters of [A-Za-z0-9_-]. 64 symbols divide 256,
 * so taking each random byte mod 64 keeps the draw uniform.
 */
export function makeClientKey(length = 32): string {
  const bytes = Crypto.getRandomBytes(length);
  let key = '';
  for (let i = 0; i < length; i += 1) key += KEY_ALPHABET[bytes[i] % KEY_ALPHABET.length];
  return key;
}

export const CLIENT_KEY_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
