// Two suites: `unit` (pure parts and the session against a fake socket, no network) and
// `stack` (the real socket.io-client against a running TalkRooms at TALKROOMS_URL;
// services/tests/integration/test_client_core_js.py starts one and runs it).
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'stack', testMatch: ['<rootDir>/test/stack/**/*.test.ts'] },
  ],
};
