import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'coverage/**', 'reports/**', '.stryker-tmp/**', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // lib/core/README.md: constructs throw coded errors that name the construct, never a bare Error.
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ThrowStatement > NewExpression[callee.name='Error']",
          message: 'lib/ throws ConstructValidationError (through PropsValidator) or ConstructUsageError from lib/core, with a code.',
        },
      ],
    },
  },
);
