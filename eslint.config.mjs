// @ts-check
// ESLint 9 flat config: eslint recommended + typescript-eslint recommended (syntax-only: the type-checked set took
// ~80 s on a loaded 2-core machine, against ~10 s for this one) + eslint-config-prettier (formatting is Prettier's
// job, see .prettierrc). `npm run lint` runs this and `prettier --check`; `npm run format` rewrites.
import eslintComments from '@eslint-community/eslint-plugin-eslint-comments/configs';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'coverage/', 'data/', 'test/artifacts/', 'bench/results/', '.tmp/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  eslintComments.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: globals.node },
    rules: {
      // No rule switched off without a reason: `// eslint-disable-next-line rule -- why`.
      '@eslint-community/eslint-comments/require-description': ['error', { ignore: [] }],
      // A leading `_` marks a parameter or binding that is there on purpose (an override's signature, a field
      // dropped from a rest spread); everything else unused is dead code.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // Library code and its tests log through Nest's Logger (or a test's CapturingLogger), never the console.
    files: ['src/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // One concept per file: a library file past 300 lines holds more than one (docs/architecture.md says where
    // each concern lives). Blank lines and comments count too, so a file cannot hide its size.
    files: ['src/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 300 }] },
  },
  {
    // CommonJS files (jest configs, CI scripts, the jest reporter): `require` is how they import.
    files: ['**/*.js', '**/*.cjs'],
    ignores: ['src/server/public/**'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The demo page's script is served as is to the browser: a classic ES5 script (no build step, so no newer
    // syntax slips in). ES5 has no optional catch binding, hence `catch (error)` with the error unused.
    files: ['src/server/public/**/*.js'],
    languageOptions: { ecmaVersion: 5, sourceType: 'script', globals: globals.browser },
    rules: { '@typescript-eslint/no-unused-vars': ['error', { caughtErrors: 'none' }] },
  },
  prettier,
  {
    // After eslint-config-prettier, which switches max-len off: Prettier wraps code at 120 but leaves comments and
    // long string literals alone, so this catches those. URLs and regex literals cannot be split.
    rules: {
      'max-len': ['error', { code: 120, tabWidth: 2, ignoreUrls: true, ignoreRegExpLiterals: true }],
    },
  },
);
