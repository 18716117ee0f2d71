import mongoose from 'mongoose';
import { config } from './config.js';
import { logger } from './lib/logger.js';
import { closeMongo, connectMongo } from './lib/mongo.js';
import './models/index.js';

// Release phase: configuration was checked by importing config; now build the indexes every query relies on.
try {
  await connectMongo();
  for (const model of Object.values(mongoose.models)) {
    await model.syncIndexes();
    logger.info({ model: model.modelName }, 'indexes in sync');
  }
  await closeMongo();
  logger.info({ env: config.NODE_ENV }, 'release ok');
} catch (err) {
  console.error(`release failed: ${(err as Error).message}`);
  process.exit(1);
}
