// ESLint flat config: typescript-eslint recommended rules over sources, tests, benchmarks and scripts.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'models/**', 'scripts/**/*.py'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='test'][callee.property.name=/^(only|skip|todo)$/]", message: 'No focused or skipped tests.' },
        { selector: "CallExpression[callee.object.name='it'][callee.property.name=/^(only|skip|todo)$/]", message: 'No focused or skipped tests.' },
        { selector: "CallExpression[callee.object.name='describe'][callee.property.name=/^(only|skip|todo)$/]", message: 'No focused or skipped tests.' },
      ],
    },
  },
);
