import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', 'dashboard/dist/**', 'bench/results*'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // The folder table in architecture.md is the import rule: protocols import nothing outside protocols/.
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['protocols/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['../../gateway/*', '../../alarms/*', '../../telephony/*', '../gateway/*', '../alarms/*', '../telephony/*', 'pg', 'fastify', 'aedes', 'node:net', 'node:fs'] }],
    },
  },
  {
    files: ['simulators/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/gateway/**', '**/protocols/**', '**/alarms/**', '**/telephony/**'] }],
    },
  },
  {
    files: ['telephony/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/gateway/**'] }] },
  },
  {
    files: ['alarms/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/gateway/**', '**/telephony/**'] }] },
  },
  {
    // The dashboard talks to the gateway only over HTTP and WebSocket (architecture.md).
    files: ['dashboard/**/*.{ts,tsx}'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/gateway/**', '**/protocols/**', '**/alarms/**', '**/telephony/**', '**/simulators/**', 'node:*'] }] },
  },
);
