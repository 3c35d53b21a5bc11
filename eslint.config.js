// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers and booleans in log lines and messages are fine; objects are not.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // client-node declares its API models (V1Pod, V1Taint, ...) as classes that carry only data; its
      // serializer takes plain objects, and object literals are how every client-node example builds them.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      // The same data classes are updated by spreading ({ ...lease.spec, renewTime }): nothing lives on their
      // prototypes, so nothing is lost.
      '@typescript-eslint/no-misused-spread': 'off',
    },
  },
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
);
