import { logger } from './logger.js';

type Step = [name: string, close: () => Promise<unknown>];

/**
 * SIGTERM/SIGINT: run the steps in order (stop taking work first, then close connections) and exit 0,
 * or exit 1 if they take longer than `timeoutMs` (Heroku sends SIGKILL after 30 s).
 */
export function onShutdown(steps: Step[], timeoutMs = 25_000): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, timeoutMs).unref();
    for (const [name, close] of steps) {
      await close().catch((err: Error) =>
        logger.warn({ err: err.message, step: name }, 'shutdown step failed'),
      );
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', (s) => void stop(s));
  process.once('SIGINT', (s) => void stop(s));
}
