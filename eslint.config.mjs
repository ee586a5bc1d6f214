import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'out/**', '.cache/**', '.lab/**', '*.vsix'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': 'off',
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // Browser code: the webview's page and the functions the UI checks hand to the browser.
    files: ['src/webview/**/*.ts', 'test/ui/**/*.ts'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', acquireVsCodeApi: 'readonly', getComputedStyle: 'readonly', performance: 'readonly' } },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Messages carry server texts, file names, header values and settings values: they are shown
    // only through src/safeWindow.ts, which neutralises them (no links, icons or control characters).
    files: ['src/**/*.ts'],
    ignores: ['src/safeWindow.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.property.name='window'][property.name=/^(showErrorMessage|showWarningMessage|showInformationMessage|setStatusBarMessage)$/]",
          message: 'use src/safeWindow.ts, which neutralises untrusted text',
        },
      ],
    },
  },
  {
    // The core must stay free of the VS Code API so the CLI and the tests can use it on plain Node.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'src/core must not depend on the vscode API' }], patterns: [{ group: ['**/cli', '**/cli/*'], message: 'src/core is shared by the CLI and the extension: it must not depend on the CLI' }] }],
    },
  },
  {
    // The extension's bundle must not carry the CLI (its environment secret store, its TTY reader):
    // what both need lives in src/core.
    files: ['src/**/*.ts'],
    ignores: ['src/core/**', 'src/cli/**', 'src/cli.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/cli', '**/cli/*'], message: 'the extension must not import the CLI: move what both need to src/core' }] }],
    },
  },
);
