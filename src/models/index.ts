/** Every model, for the release phase's syncIndexes and the test harness. */
export { AcmeAccount } from './acme-account.js';
export { Certificate } from './certificate.js';
export { Challenge } from './challenge.js';
export { Counter } from './counter.js';
export { EmailVerification } from './email-verification.js';
export { Mail } from './mail.js';
export { Order } from './order.js';
export { Token } from './token.js';
export { User } from './user.js';
