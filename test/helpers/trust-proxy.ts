// Imported before ./env.js by a test file that needs ctx.ip from X-Forwarded-For (TRUST_PROXY=true).
process.env.TEST_TRUST_PROXY = 'true';
