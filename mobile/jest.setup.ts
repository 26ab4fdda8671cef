import mockAsyncStorage from '@react-native-async-storage/async-storage/jest/async-storage-mock';

// AsyncStorage has no native module under Jest: use the in-memory mock it ships.
jest.mock('@react-native-async-storage/async-storage', () => mockAsyncStorage);

// Safe-area insets come from the native side; the library ships a mock with fixed metrics.
jest.mock('react-native-safe-area-context', () =>
  jest.requireActual('react-native-safe-area-context/jest/mock').default,
);

// expo-crypto's native module is absent under Jest: Node's crypto stands in.
jest.mock('expo-crypto', () => {
  const nodeCrypto = jest.requireActual('crypto');
  return {
    randomUUID: () => nodeCrypto.randomUUID(),
    getRandomBytes: (n: number) => new Uint8Array(nodeCrypto.randomBytes(n)),
  };
});
