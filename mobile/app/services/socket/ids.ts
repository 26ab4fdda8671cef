import { PATTERNS, newClientKey } from '@talkrooms/client';
import * as Crypto from 'expo-crypto';

/** A client-made message id (UUID v4): lets the server drop a re-sent message. */
export function makeClientId(): string {
  return Crypto.randomUUID();
}

/** The device's `client_key`: 32 characters of [A-Za-z0-9_-], from expo-crypto's bytes. */
export function makeClientKey(length = 32): string {
  return newClientKey(length, Crypto.getRandomBytes);
}

export const CLIENT_KEY_PATTERN = PATTERNS.clientKey;
export const CLIENT_ID_PATTERN = PATTERNS.clientId;
