// The page walk (e2e/page-walk.ts) on postgres.
import { describeBrowser } from './browser.js';
import { walk } from './page-walk.js';

describeBrowser('every page, every role, both sizes', walk, ['postgres']);
