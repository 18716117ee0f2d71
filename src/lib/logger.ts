import { pino } from 'pino';
import { config } from '../config.js';

export const logger = pino({
  level: config.NODE_ENV === 'test' ? (process.env.LOG_LEVEL ?? 'silent') : config.LOG_LEVEL,
  redact: [
    'password',
    '*.password',
    'key',
    '*.key',
    'privateKey',
    '*.privateKey',
    'req.headers.authorization',
  ],
});
