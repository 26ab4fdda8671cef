/** Random ids made on the device: message `client_id`s and the per-device `client_key`. */

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** n random bytes; React Native passes expo-crypto's getRandomBytes. */
export type RandomBytes = (n: number) => Uint8Array;

const webCrypto = (): Crypto | undefined => (globalThis as { crypto?: Crypto }).crypto;

/** crypto.getRandomValues (browsers, Node 20, Hermes with a polyfill). */
export const defaultRandomBytes: RandomBytes = (n) => {
  const crypto = webCrypto();
  if (!crypto?.getRandomValues) throw new Error('no crypto.getRandomValues: pass a RandomBytes');
  return crypto.getRandomValues(new Uint8Array(n));
};

/** A UUID v4. crypto.randomUUID exists only in secure contexts (HTTPS, localhost). */
export function newClientId(randomBytes?: RandomBytes): string {
  const crypto = webCrypto();
  if (!randomBytes && typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  const bytes = (randomBytes ?? defaultRandomBytes)(16);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A `client_key` of `length` characters of A-Za-z0-9_-. 64 symbols divide 256, so each
 * random byte mod 64 keeps the draw uniform.
 */
export function newClientKey(length = 32, randomBytes: RandomBytes = defaultRandomBytes): string {
  const bytes = randomBytes(length);
  let key = '';
  for (let i = 0; i < length; i += 1) key += KEY_ALPHABET[bytes[i] % KEY_ALPHABET.length];
  return key;
}
