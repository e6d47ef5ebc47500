// Lint rules that catch server bugs (floating or misused promises, non-exhaustive switches)
// and the one-way dependency rule between modules described in DESIGN.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Which modules each module may NOT import. protocol ← storage, raft ← metadata, coordinator ← broker;
// client depends only on protocol and runtime; tools on top depend only on client.
const layers = {
  protocol: [
    'runtime',
    'storage',
    'raft',
    'metadata',
    'coordinator',
    'broker',
    'client',
    'cli',
    'connect',
    'streams',
    'console',
  ],
  runtime: [
    'storage',
    'raft',
    'metadata',
    'coordinator',
    'broker',
    'client',
    'cli',
    'connect',
    'streams',
    'console',
  ],
  storage: ['raft', 'metadata', 'coordinator', 'broker', 'client', 'cli', 'connect', 'streams', 'console'],
  raft: ['storage', 'metadata', 'coordinator', 'broker', 'client', 'cli', 'connect', 'streams', 'console'],
  metadata: ['coordinator', 'broker', 'client', 'cli', 'connect', 'streams', 'console'],
  coordinator: ['broker', 'client', 'cli', 'connect', 'streams', 'console'],
  broker: ['client', 'cli', 'connect', 'streams', 'console'],
  client: ['storage', 'raft', 'metadata', 'coordinator', 'broker', 'cli', 'connect', 'streams', 'console'],
  cli: ['storage', 'raft', 'metadata', 'coordinator', 'connect', 'streams', 'console'],
  connect: ['storage', 'raft', 'metadata', 'coordinator', 'broker', 'cli', 'streams', 'console'],
  streams: ['storage', 'raft', 'metadata', 'coordinator', 'broker', 'cli', 'connect', 'console'],
  console: ['storage', 'raft', 'metadata', 'coordinator', 'connect', 'streams', 'cli'],
};

const layerRules = Object.entries(layers).map(([layer, forbidden]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((other) => ({
          group: [`../${other}/*`, `../../${other}/*`, `../../../${other}/*`, `../${other}/index.js`],
          message: `src/${layer} must not depend on src/${other} (see DESIGN.md, "Shape of the code").`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', '**/node_modules/**', 'src/protocol/generated/**', 'samsa-data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  ...layerRules,
);
