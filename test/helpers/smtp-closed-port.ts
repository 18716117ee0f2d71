// Imported before ./env.js by a test file whose mails must fail: SMTP_URL points at a loopback port
// that nothing listens on, so every connection is refused.
import { freePortSync } from './free-port.js';

process.env.TEST_SMTP_URL = `smtp://127.0.0.1:${freePortSync()}`;
