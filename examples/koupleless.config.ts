// A kmc configuration in TypeScript: defineConfig types it; plugins may be names, [name, options] or objects.
// Check it with: npm run kmc -- validate --config examples/koupleless.config.ts
import { defineConfig } from '../config/define-config.ts';

export default defineConfig({
  env: 'dev',
  bases: { silenceSeconds: 30 },
  plugins: [['biz-deactivate', { failPod: false }]],
});
